"""``tg.Module`` and ``tg.name_scope``: how tape code groups its Variables, as in TensorFlow.

A Module finds its Variables by walking its attributes (sorted by name), and inside them lists,
tuples, dicts (sorted by key) and other Modules; a Variable reachable twice counts once.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from tapegrad._core.state import STATE, scoped
from tapegrad._core.tensor import Variable

__all__ = ["Module", "name_scope"]

_CAMEL_TO_SNAKE = re.compile(r"((?<=[a-z0-9])[A-Z]|(?!^)[A-Z](?=[a-z]))")  # TensorFlow's
_IDENTIFIER = re.compile(r"^[a-zA-Z_]([a-zA-Z0-9_])*$")


class name_scope:  # noqa: N801  (TensorFlow's name)
    """A context in which new Variables are named ``scope/name`` (TensorFlow's ``tf.name_scope``).

    Entering gives the full scope; a name ending in ``/`` is taken as a full scope, and ``""``
    goes back to the top.

    >>> import tapegrad as tg
    >>> with tg.name_scope("layer") as scope:
    ...     v = tg.Variable(1.0, name="w")
    >>> scope, v.name
    ('layer/', 'layer/w:0')
    """

    def __init__(self, name: str) -> None:
        if not isinstance(name, str):
            raise ValueError(f"name for name_scope must be a string, not {type(name).__name__}")
        self._name = name
        self._entered: list = []  # one per (nested) entry, so the same scope can be re-entered

    @property
    def name(self) -> str:
        """The name this scope was made with.

        >>> import tapegrad as tg
        >>> tg.name_scope("a").name
        'a'
        """
        return self._name

    def __enter__(self) -> str:
        name = self._name
        scope = name if (not name or name.endswith("/")) else f"{STATE.scope}{name}/"
        ctx = scoped(scope)
        ctx.__enter__()
        self._entered.append(ctx)
        return scope

    def __exit__(self, *exc: Any) -> None:
        self._entered.pop().__exit__(*exc)

    def __repr__(self) -> str:
        return f"name_scope({self._name!r})"


class Module:
    """A named container of Variables and other Modules (TensorFlow's ``tf.Module``).

    ``variables``, ``trainable_variables`` and ``submodules`` are found by walking the
    attributes, in the order TensorFlow walks them.

    >>> import tapegrad as tg
    >>> class Dense(tg.Module):
    ...     def __init__(self, n_in, n_out, name=None):
    ...         super().__init__(name=name)
    ...         self.w = tg.Variable(tg.ones((n_in, n_out)), name="w")
    ...         self.b = tg.Variable(tg.zeros((n_out,)), name="b")
    ...     def __call__(self, x):
    ...         return x @ self.w + self.b
    >>> layer = Dense(2, 3)
    >>> [v.name for v in layer.trainable_variables]
    ['b:0', 'w:0']
    """

    # Attributes the walk skips (TensorFlow's hook, kept for subclasses that set it).
    _TF_MODULE_IGNORED_PROPERTIES: frozenset = frozenset()

    def __init__(self, name: str | None = None) -> None:
        if name is None:
            name = _CAMEL_TO_SNAKE.sub(r"_\1", type(self).__name__).lower()
        elif not isinstance(name, str) or not _IDENTIFIER.match(name):
            raise ValueError(f"{name!r} is not a valid module name. Module names must be valid Python "
                             "identifiers (e.g. a valid class name).")
        self._name = name
        with name_scope(name) as scope:  # relative to the scope the module is made in, as in TF
            self._name_scope = name_scope(scope)

    def _state(self, attr: str) -> Any:
        try:
            return self.__dict__[attr]
        except KeyError:
            raise AttributeError(f"{type(self).__name__} has no name: its __init__ must call "
                                 "super().__init__() (or super().__init__(name=...)) first") from None

    @property
    def name(self) -> str:
        """The module's name: the one given, or the class name in snake_case.

        >>> import tapegrad as tg
        >>> class MyLayer(tg.Module): pass
        >>> MyLayer().name, MyLayer(name="first").name
        ('my_layer', 'first')
        """
        return self._state("_name")

    @property
    def name_scope(self) -> name_scope:
        """A ``tg.name_scope`` for the module: Variables made inside are named ``module_name/...``.

        >>> import tapegrad as tg
        >>> m = tg.Module(name="net")
        >>> with m.name_scope:
        ...     v = tg.Variable(1.0, name="w")
        >>> m.name_scope.name, v.name
        ('net/', 'net/w:0')
        """
        return self._state("_name_scope")

    @property
    def variables(self) -> tuple:
        """Every Variable of this module and its submodules (trainable or not), each once.

        >>> import tapegrad as tg
        >>> m = tg.Module()
        >>> m.v = [tg.Variable(1.0), tg.Variable(2.0, trainable=False)]
        >>> len(m.variables)
        2
        """
        return tuple(self._flatten(predicate=_is_variable))

    @property
    def trainable_variables(self) -> tuple:
        """The trainable Variables of this module and its submodules, each once.

        >>> import tapegrad as tg
        >>> m = tg.Module()
        >>> m.v = [tg.Variable(1.0), tg.Variable(2.0, trainable=False)]
        >>> len(m.trainable_variables)
        1
        """
        return tuple(self._flatten(predicate=_is_trainable))

    @property
    def non_trainable_variables(self) -> tuple:
        """The Variables made with ``trainable=False``, each once.

        >>> import tapegrad as tg
        >>> m = tg.Module()
        >>> m.v = [tg.Variable(1.0), tg.Variable(2.0, trainable=False)]
        >>> [float(v) for v in m.non_trainable_variables]
        [2.0]
        """
        return tuple(self._flatten(predicate=_is_non_trainable))

    @property
    def submodules(self) -> tuple:
        """Every Module reachable from this one (not itself), each once: direct ones first.

        >>> import tapegrad as tg
        >>> outer, inner = tg.Module(name="outer"), tg.Module(name="inner")
        >>> outer.layers = [inner]
        >>> [m.name for m in outer.submodules]
        ['inner']
        """
        return tuple(self._flatten(predicate=_is_module))

    def _flatten(self, recursive: bool = True, predicate: Callable[[Any], bool] | None = None,
                 attribute_traversal_key: Callable[[str], Any] | None = None, with_path: bool = False,
                 expand_composites: bool = False) -> Iterator[Any]:
        """Leaves of the module (and submodules) that ``predicate`` accepts, in TensorFlow's order.

        >>> import tapegrad as tg
        >>> m = tg.Module(); m.x = {"b": 2, "a": 1}
        >>> list(m._flatten(predicate=lambda x: isinstance(x, int), with_path=True))
        [(('x', 'a'), 1), (('x', 'b'), 2)]
        """
        return _walk(self, recursive, predicate or (lambda _: True), attribute_traversal_key,
                     self._TF_MODULE_IGNORED_PROPERTIES, with_path, (), None, None)

    @classmethod
    def with_name_scope(cls, method: Callable[..., Any]) -> Callable[..., Any]:
        """Decorate a method so that it runs inside the module's ``name_scope``.

        >>> import tapegrad as tg
        >>> class Lazy(tg.Module):
        ...     @tg.Module.with_name_scope
        ...     def __call__(self, x):
        ...         if not hasattr(self, "w"):
        ...             self.w = tg.Variable(x, name="w")
        ...         return x * self.w
        >>> m = Lazy(); _ = m(tg.constant(2.0)); m.w.name
        'lazy/w:0'
        """
        @functools.wraps(method)
        def method_with_name_scope(self: Module, *args: Any, **kwargs: Any) -> Any:
            with self.name_scope:
                return method(self, *args, **kwargs)
        return method_with_name_scope

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.__dict__.get('_name', '?')!r}>"


def _is_variable(x: Any) -> bool:
    return isinstance(x, Variable)


def _is_trainable(x: Any) -> bool:
    return isinstance(x, Variable) and x.trainable


def _is_non_trainable(x: Any) -> bool:
    return isinstance(x, Variable) and not x.trainable


def _is_module(x: Any) -> bool:
    return isinstance(x, Module)


def _leaves(x: Any, path: tuple) -> Iterator[tuple]:
    """(path, leaf) pairs of a nested structure, the way tf.nest flattens it: dicts by sorted key."""
    if isinstance(x, (list, tuple)):
        for i, item in enumerate(x):
            yield from _leaves(item, path + (i,))
    elif isinstance(x, Mapping):
        try:
            keys = sorted(x)
        except TypeError:  # keys that do not sort (mixed types): their own order
            keys = list(x)
        for k in keys:
            yield from _leaves(x[k], path + (k,))
    else:
        yield path, x


def _walk(module: Module, recursive: bool, predicate: Callable[[Any], bool], key: Any, ignore: frozenset,
          with_path: bool, module_path: tuple, seen: set | None, stack: list | None) -> Iterator[Any]:
    # TensorFlow's _flatten_module: this module's own leaves first, then each submodule's in turn;
    # a module already on the stack (a cycle) is not walked into again.
    if seen is None:
        seen = {id(module)}
    if stack is None:
        stack = []
    if id(module) in stack:
        recursive = False
    attrs = vars(module)
    subs = []
    for name in sorted(attrs, key=key):
        if name in ignore:
            continue
        for path, leaf in _leaves(attrs[name], (name,)):
            if not with_path:
                if id(leaf) in seen:
                    continue
                seen.add(id(leaf))
            if predicate(leaf):
                yield (module_path + path, leaf) if with_path else leaf
            if recursive and isinstance(leaf, Module):
                subs.append((module_path + path, leaf))
    stack.append(id(module))
    for path, sub in subs:
        yield from _walk(sub, recursive, predicate, key, sub._TF_MODULE_IGNORED_PROPERTIES, with_path, path,
                         seen, stack)
    stack.pop()
