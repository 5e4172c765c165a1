"""What Python state a function reads, and a cheap check that none of it changed since.

``tg.function`` takes the Python values a function reads (globals, closure variables, NumPy
arrays) as they were when it traced. ``minimize(compile="auto")`` must give what eager code gives,
so before each replay it asks a ``Watch`` whether any of them changed, and traces again or runs
eagerly when one did. ``watch(fn)`` reads fn's bytecode, and that of the Python functions it
reaches, for every outer name it loads; what it cannot prove it can watch (a list, an object's
attributes, a class, a random draw, a call with unknown side effects) makes it raise ``Unprovable``,
and the run stays eager.

What is watched, and how: a global, builtin or closure variable by identity (rebinding it to an
equal value still counts as a change); a user module's attribute reached by name (``cfg.scale``)
by identity; a NumPy array, or the array of a captured tensor, by its bytes, shape and dtype; a
function's code and defaults by identity. Variables are not watched: the compiled code reads their
current value. NumPy, tapegrad and ``math`` are taken as they are (not monkeypatched during a run),
except ``numpy.random``, whose draws change from call to call.
"""
from __future__ import annotations

import builtins
import dis
import types
from typing import Any

import numpy as np

from tapegrad._core.backend import is_foreign, library
from tapegrad._core.dtypes import DType
from tapegrad._core.tensor import Operand, Variable
from tapegrad.compiler import Function

__all__ = ["MAX_WATCHED_BYTES", "Unprovable", "Watch", "watch"]

# Arrays are compared byte for byte before every replay: about 0.4 ns a byte, so beyond this the
# check costs more than compiled code saves on a step.
MAX_WATCHED_BYTES = 1 << 20
_MAX_CHECKS = 256
_SMALL = 1 << 14  # bytes: arrays up to this size are compared as a bytes copy, the fastest way for them
_LIBRARIES = ("numpy", "tapegrad", "math", "cmath", "operator")
_RANDOM = ("numpy.random",)
# Builtins with no side effects and no hidden state (print is left out: compiled code would print once).
_PURE_BUILTINS = frozenset(
    "abs all any ascii bin bool callable chr complex dict divmod enumerate filter float format frozenset hex int "
    "isinstance issubclass iter len list map max min next oct ord pow range repr reversed round set slice sorted "
    "str sum tuple type zip".split())
_IMMUTABLE = (int, float, complex, bool, str, bytes, range, slice, type(None), type(Ellipsis), np.dtype, DType)
# Instructions that load names this reader does not follow.
_OPAQUE = {"LOAD_NAME": "reads names dynamically", "LOAD_CLASSDEREF": "defines a class",
           "LOAD_FROM_DICT_OR_DEREF": "defines a class", "LOAD_FROM_DICT_OR_GLOBALS": "defines a class",
           "LOAD_BUILD_CLASS": "defines a class", "IMPORT_NAME": "imports a module",
           "IMPORT_STAR": "imports a module"}
_MISSING = object()


class Unprovable(Exception):
    """fn reads Python state that cannot be watched; the message says what."""


class Watch:
    """The Python state one trace of a function read; ``changed()`` names what changed since ('' if nothing).

    Falsy when there is nothing to watch (``lambda w: w ** 2``): then no check is needed at all.
    """

    def __init__(self, checks: list[tuple[str, tuple, str]]) -> None:
        self.labels = [label for _, _, label in checks]
        namespace: dict[str, Any] = {"M": _MISSING}
        lines = ["def changed():", "    try:"]
        for i, (expr, objects, _) in enumerate(checks):
            for j, obj in enumerate(objects):
                namespace[f"o{i}_{j}"] = obj
            lines += [f"        if {expr.format(*(f'o{i}_{j}' for j in range(len(objects))))}:",
                      f"            return {i}"]
        lines += ["        pass", "    except Exception:", "        return -2", "    return -1", ""]
        self.source = "\n".join(lines)
        exec(compile(self.source, "<tapegrad watch>", "exec"), namespace)  # our own generated code
        self.check = namespace["changed"]

    def __len__(self) -> int:
        return len(self.labels)

    def changed(self) -> str:
        i = self.check()
        if i == -1:
            return ""
        return self.labels[i] if i >= 0 else "Python state fn reads"


def watch(fn: Any) -> Watch:
    """A Watch of the Python state ``fn`` reads, as it is now; raises Unprovable when some cannot be watched."""
    walker = _Walker()
    walker.value(fn, getattr(fn, "__name__", "fn"))
    return Watch(walker.checks)


def _library(module: Any) -> bool:
    name = module if isinstance(module, str) else getattr(module, "__name__", "")
    return isinstance(name, str) and name.split(".")[0] in _LIBRARIES and not name.startswith(_RANDOM)


class _Walker:
    def __init__(self) -> None:
        self.checks: list[tuple[str, tuple, str]] = []
        self.keys: set[tuple] = set()
        self.seen: set[int] = set()
        self.nbytes = 0

    def add(self, expr: str, objects: tuple, label: str) -> None:
        key = (expr, *map(id, objects))
        if key in self.keys:
            return
        self.keys.add(key)
        if len(self.checks) == _MAX_CHECKS:
            raise Unprovable(f"it reads more than {_MAX_CHECKS} outer names and values, too many to watch cheaply")
        self.checks.append((expr, objects, label))

    def binding(self, mapping: dict, key: str, value: Any, label: str) -> None:
        self.add("{0}.get({1}, M) is not {2}", (mapping, key, value), label)

    def value(self, v: Any, label: str) -> None:
        """Watch v (already bound: its binding is watched by the caller), or raise Unprovable."""
        if isinstance(v, _IMMUTABLE) or v is _MISSING:
            return
        if isinstance(v, np.generic):
            if v.dtype.hasobject:
                raise Unprovable(f"it reads {label!r}, a NumPy object scalar whose contents may change")
            return
        if isinstance(v, np.ndarray):
            return self.array(v, label)
        if isinstance(v, Variable):
            return  # the compiled code reads its value at each call; its shape and dtype cannot change
        if isinstance(v, Operand):
            # A tensor is immutable, but its array may be a NumPy array the user still holds.
            return self.array(v._value, label) if isinstance(v._value, np.ndarray) else None
        if type(v) is tuple or type(v) is frozenset or (isinstance(v, tuple) and hasattr(v, "_fields")):
            for item in v:
                self.value(item, label)
            return
        if isinstance(v, types.ModuleType):
            if v.__name__.startswith(_RANDOM):
                raise Unprovable(f"it uses {v.__name__}, whose draws change from call to call")
            return  # its attributes are watched where they are read (_Walker.chain)
        if id(v) in self.seen:
            return
        self.seen.add(id(v))
        if isinstance(v, Function):
            return self.value(v.python_function, label)
        if isinstance(v, types.FunctionType):
            home = v.__globals__.get("__name__", "")  # where its code is: __module__ can be copied by a wrapper
            if home.startswith(_RANDOM):
                raise Unprovable(f"it calls {label}, which draws random numbers")
            if not _library(home):
                return self.function(v, label)
            for cell in v.__closure__ or ():  # a library's wrapper around the user's function (custom_gradient)
                try:
                    self.value(cell.cell_contents, label)
                except ValueError:  # an empty cell
                    pass
            return None
        if isinstance(v, types.MethodType):
            self.value(v.__self__, f"{label}'s object")
            return self.value(v.__func__, label)
        if isinstance(v, types.BuiltinFunctionType):
            owner = v.__self__
            if isinstance(owner, np.ufunc):
                return  # np.add.reduce and the like
            if owner is None or isinstance(owner, types.ModuleType):
                module = getattr(owner, "__name__", None) or v.__module__ or ""
                if module == "builtins" and v.__name__ in _PURE_BUILTINS:
                    return
                if module != "builtins" and _library(module):
                    return
            raise Unprovable(f"it calls {label}(), which compiled code would not repeat as eager code does "
                             "(side effects, or state of its own)")
        if isinstance(v, type):
            if v.__module__ == "builtins" or _library(v.__module__):
                return
            raise Unprovable(f"it uses the class {label}, whose attributes may change between calls")
        if callable(v) and type(v).__module__.split(".")[0] == "numpy" and _library(type(v).__module__):
            return  # NumPy's functions (ufuncs, array-function dispatchers)
        if is_foreign(v):
            raise Unprovable(f"it reads {label!r}, a {library(v)} array, and compiled code is NumPy's only (the "
                             "loss and gradient run eagerly; on Dask, each evaluation is still one dask.compute)")
        raise Unprovable(f"it reads {label!r}, a {type(v).__name__} whose contents may change between calls")

    def array(self, a: np.ndarray, label: str) -> None:
        if id(a) in self.seen:
            return
        self.seen.add(id(a))
        if a.dtype.hasobject:
            raise Unprovable(f"it reads {label!r}, a NumPy array of Python objects, whose contents may change")
        self.nbytes += a.nbytes
        if self.nbytes > MAX_WATCHED_BYTES:
            raise Unprovable(f"it reads {self.nbytes / 2**20:.1f} MiB of NumPy arrays; checking them for changes "
                             "before every step would cost more than compiled code saves")
        # Bits, not values: -0.0 and 0.0, or two NaNs, can give different results.
        if a.nbytes <= _SMALL or a.dtype.itemsize not in (1, 2, 4, 8):
            self.add("{0}.tobytes() != {1} or {0}.shape != {2} or {0}.dtype != {3}",
                     (a, a.tobytes(), a.shape, a.dtype), f"the NumPy array {label!r}")
            return
        # Larger ones as unsigned integers, into a buffer of their own: a bytes copy per check would
        # make the allocator hand memory back and forth, which slows every NumPy call around it.
        bits = np.dtype(f"u{a.dtype.itemsize}")
        self.add("{0}.shape != {1} or {0}.dtype != {2} or {3}({0}.view({4}), {5}, out={6}).any()",
                 (a, a.shape, a.dtype, np.not_equal, bits, a.view(bits).copy(), np.empty(a.shape, bool)),
                 f"the NumPy array {label!r}")

    def function(self, fn: types.FunctionType, label: str) -> None:
        name = fn.__name__
        code = fn.__code__
        self.add("{0}.__code__ is not {1} or {0}.__defaults__ is not {2} or {0}.__kwdefaults__ is not {3}",
                 (fn, code, fn.__defaults__, fn.__kwdefaults__), f"{name}'s code or defaults")
        for d in fn.__defaults__ or ():
            self.value(d, f"a default of {name}")
        if fn.__kwdefaults__:
            kw = fn.__kwdefaults__
            self.add("len({0}) != {1}", (kw, len(kw)), f"{name}'s keyword defaults")
            for k, d in kw.items():
                self.binding(kw, k, d, f"{name}'s default {k}")
                self.value(d, f"{name}'s default {k}")
        cells = dict(zip(code.co_freevars, fn.__closure__ or ()))
        glob = fn.__globals__
        builtin = fn.__builtins__ if hasattr(fn, "__builtins__") else glob.get("__builtins__", builtins.__dict__)
        if isinstance(builtin, types.ModuleType):
            builtin = builtin.__dict__
        for co in _code_objects(code):
            ins = list(dis.get_instructions(co))
            for i, x in enumerate(ins):
                op, arg = x.opname, x.argval
                outer = arg in cells and arg in co.co_freevars
                if op in ("STORE_GLOBAL", "DELETE_GLOBAL") or (op in ("STORE_DEREF", "DELETE_DEREF") and outer):
                    raise Unprovable(f"{name} assigns to the outer name {arg!r}, so its result may change between "
                                     "calls")
                if op in _OPAQUE:
                    raise Unprovable(f"{name} {_OPAQUE[op]}, which tapegrad does not follow")
                if op == "LOAD_GLOBAL":
                    v = glob.get(arg, _MISSING)
                    self.binding(glob, arg, v, f"the global {arg!r}")
                    if v is _MISSING:
                        v = builtin.get(arg, _MISSING)
                        self.binding(builtin, arg, v, f"the builtin {arg!r}")
                    self.chain(v, ins, i, arg)
                elif op == "LOAD_DEREF" and outer:
                    cell = cells[arg]
                    try:
                        v = cell.cell_contents
                    except ValueError:  # empty until the outer function assigns it
                        v = _MISSING
                    self.add("{0}.cell_contents is not {1}", (cell, v), f"the closure variable {arg!r}")
                    self.chain(v, ins, i, arg)

    def chain(self, v: Any, ins: list, i: int, label: str) -> None:
        """v, loaded at ins[i], and the attributes read from it by name right after (``cfg.scale``, ``np.linalg``)."""
        j = i + 1
        while isinstance(v, types.ModuleType) and not v.__name__.startswith(_RANDOM):
            nxt = ins[j] if j < len(ins) else None
            if nxt is None or nxt.opname not in ("LOAD_ATTR", "LOAD_METHOD"):
                if not _library(v):
                    raise Unprovable(f"it uses the module {label} other than by reading its attributes by name, so "
                                     "tapegrad cannot tell which of them it reads")
                return
            attr, module = nxt.argval, v
            label = f"{label}.{attr}"
            if _library(module):
                v = getattr(module, attr, _MISSING)
                if not isinstance(v, types.ModuleType):
                    return  # NumPy's and tapegrad's functions and constants are taken as they are
            else:
                v = vars(module).get(attr, _MISSING)
                if v is _MISSING and "__getattr__" in vars(module):
                    raise Unprovable(f"it reads {label}, which its module makes on the fly")
                self.binding(vars(module), attr, v, f"the module attribute {label}")
            j += 1
        if isinstance(v, types.FunctionType) and j < len(ins) and ins[j].opname in ("LOAD_ATTR", "LOAD_METHOD") \
                and not _library(v.__module__):
            raise Unprovable(f"it reads an attribute of the function {label}, which may change between calls")
        self.value(v, label)


def _code_objects(code: types.CodeType) -> list[types.CodeType]:
    out = [code]
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            out.extend(_code_objects(c))
    return out
