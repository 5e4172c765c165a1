"""Control flow as TensorFlow runs it eagerly: ``cond``, ``while_loop``, ``map_fn``,
``vectorized_map``, ``scan``, ``foldl``, ``foldr``.

Each is a Python loop (or branch) of ordinary tapegrad ops, so a tape records what actually ran
and gradients flow through it, as in TensorFlow's eager mode. Inside ``tg.function`` a branch
or loop condition that reads a tensor's value makes that signature run eagerly (same answers).
"""
from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

from tapegrad._core import nest
from tapegrad._core.dtypes import DType, as_dtype
from tapegrad._core.errors import InvalidArgumentError
from tapegrad._core.spec import TensorSpec
from tapegrad._core.tensor import Operand, Tensor, Variable, convert_to_tensor
from tapegrad.ops import stack, unstack

__all__ = ["cond", "foldl", "foldr", "map_fn", "scan", "vectorized_map", "while_loop"]


def _truth(pred: Any, what: str) -> bool:
    if isinstance(pred, Operand) and pred._value.size != 1:
        raise ValueError(f"{what} must be a scalar boolean; got a tensor of shape {tuple(pred._value.shape)}. "
                         "Reduce it first, e.g. tg.reduce_all(...) or tg.reduce_any(...)")
    return bool(pred)


def _check_callable(f: Any, what: str) -> None:
    if not callable(f):
        raise TypeError(f"'{what}' must be callable.")


def cond(pred: Any, true_fn: Callable[[], Any] | None = None, false_fn: Callable[[], Any] | None = None,
         name: str | None = None) -> Any:
    """``true_fn()`` if ``pred`` is true, else ``false_fn()``; only the branch taken runs.

    >>> import tapegrad as tg
    >>> x = tg.constant(2.0)
    >>> print(tg.cond(x > 1.0, lambda: x * 2.0, lambda: x * 3.0))
    tf.Tensor(4.0, shape=(), dtype=float32)
    """
    if true_fn is None:
        raise TypeError("cond(): 'true_fn' argument required")
    if false_fn is None:
        raise TypeError("cond(): 'false_fn' argument required")
    _check_callable(true_fn, "true_fn")
    _check_callable(false_fn, "false_fn")
    return true_fn() if _truth(pred, "cond: pred") else false_fn()


def _shape_of(s: Any) -> Any:
    """The structure of ``s`` with leaves blanked, lists and tuples told apart below the top."""
    if isinstance(s, (list, tuple)):
        return (type(s) if hasattr(s, "_fields") else (list if isinstance(s, list) else tuple),  # namedtuple
                tuple(_shape_of(x) for x in s))
    if isinstance(s, dict):
        return dict, tuple((k, _shape_of(s[k])) for k in sorted(s))
    return None


def _same_structure(a: Any, b: Any, what: str) -> None:
    if _shape_of(list(a)) != _shape_of(list(b)):
        raise ValueError(f"{what}: the two structures don't have the same nested structure; expected "
                         f"{_describe(a)}, got {_describe(b)}")


def _describe(s: Any) -> str:
    return repr(nest.map_structure(lambda x: type(x).__name__, s))


def while_loop(cond: Callable[..., Any], body: Callable[..., Any], loop_vars: Any, shape_invariants: Any = None,
               parallel_iterations: int = 10, back_prop: bool = True, swap_memory: bool = False,
               maximum_iterations: Any = None, name: str | None = None) -> Any:
    """Repeat ``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)`` (at most ``maximum_iterations``
    times); returns the final loop variables, as tensors, in the structure of ``loop_vars``.

    ``body`` returns a list or tuple like ``loop_vars``. ``shape_invariants``, ``parallel_iterations``,
    ``swap_memory`` and ``back_prop`` are accepted and, as in TensorFlow's eager mode, change nothing.

    >>> import tapegrad as tg
    >>> i, total = tg.while_loop(lambda i, s: i < 4, lambda i, s: (i + 1, s + 2.0), (0, 0.0))
    >>> int(i), float(total)
    (4, 8.0)
    """
    _check_callable(cond, "cond")
    _check_callable(body, "body")
    if parallel_iterations < 1:
        raise TypeError("'parallel_iterations' must be a positive integer.")
    if not isinstance(loop_vars, (list, tuple)):
        raise TypeError(f"while_loop: loop_vars must be a list or tuple of loop variables, e.g. [x] or (i, x); "
                        f"got {type(loop_vars).__name__}")
    if not loop_vars:
        raise ValueError("'loop_vars' must be provided.")
    # Variables enter as their values (TensorFlow reads them once, here), so the body sees tensors.
    loop_vars = nest.map_structure(lambda x: convert_to_tensor(x) if isinstance(x, Variable) else x, loop_vars)
    limit = None
    if maximum_iterations is not None:
        m = convert_to_tensor(maximum_iterations)
        if m._value.ndim != 0:
            raise ValueError(f"'maximum_iterations' must be a scalar. Received shape: {tuple(m._value.shape)}")
        limit = int(m)
    count = 0
    # cond runs before the count is checked, as in TensorFlow (they are and-ed there).
    while _truth(cond(*loop_vars), "while_loop: cond's result") and (limit is None or count < limit):
        result = body(*loop_vars)
        if not isinstance(result, (list, tuple)):
            raise TypeError(f"while_loop: body must return a list or tuple shaped like loop_vars "
                            f"({len(loop_vars)} item(s)); it returned {type(result).__name__}. For one loop "
                            "variable write e.g. `lambda i: (i + 1,)`")
        _same_structure(loop_vars, result, "while_loop: body's result and loop_vars")
        loop_vars = result
        count += 1
    return nest.map_structure(convert_to_tensor, loop_vars)


# ---- over the first dimension ------------------------------------------------------------------------

def _slices(elems: Any, what: str) -> tuple:
    """(flat tensors of elems, their length n, per-tensor lists of slices along the first axis)."""
    flat = [convert_to_tensor(e) for e in nest.flatten(elems)]
    if not flat:
        raise ValueError(f"{what}: elems must be a Tensor or (possibly nested) sequence of Tensors. Got {elems!r}")
    for t in flat:
        if t._value.ndim == 0:
            raise ValueError(f"{what}: elements in elems must be 1+ dimensional Tensors, not scalars; the "
                             "function is applied along the first dimension")
    n = flat[0]._value.shape[0]
    for t in flat[1:]:
        if t._value.shape[0] != n:
            raise ValueError(f"{what}: dimensions {n} and {t._value.shape[0]} are not compatible; every tensor "
                             "in elems needs the same first dimension")
    return flat, n, [unstack(t) for t in flat]


def _stack_leaf(values: list, spec: Any, empty_shape: tuple, what: str) -> Tensor:
    want = None if spec is None else (spec.dtype if isinstance(spec, TensorSpec) else as_dtype(spec))
    shape = spec.shape if isinstance(spec, TensorSpec) else None
    out = []
    for v in values:
        if isinstance(v, Operand):
            t = convert_to_tensor(v)
            if want is not None and t.dtype != want:
                raise InvalidArgumentError(f"{what}: fn returned a {t.dtype.name} tensor where the output "
                                           f"signature says {want.name}; give fn_output_signature="
                                           f"tg.{t.dtype.name} (or cast inside fn)")
        else:
            t = convert_to_tensor(v, dtype=want)
        got = tuple(t._value.shape)
        if shape is not None and not (len(shape) == len(got) and all(a is None or a == b
                                                                      for a, b in zip(shape, got))):
            raise ValueError(f"{what}: incompatible shape for value ({got}), expected ({tuple(shape)})")
        if out and got != tuple(out[0]._value.shape):
            raise ValueError(f"{what}: incompatible shape for value ({got}), expected ({tuple(out[0]._value.shape)});"
                             " every call of fn must return the same shapes")
        out.append(t)
    if out:
        return stack(out)
    from tapegrad.ops import zeros  # an empty result: no call of fn to take the shape from

    dims = tuple(shape) if shape is not None and None not in shape else ()
    return zeros((0,) + dims + empty_shape, dtype=want if want is not None else "float32")


def _output_signature(sig: Any) -> bool:
    return all(isinstance(s, (TensorSpec, DType, str)) for s in nest.flatten(sig))


def map_fn(fn: Callable[[Any], Any], elems: Any, dtype: Any = None, parallel_iterations: int | None = None,
           back_prop: bool = True, swap_memory: bool = False, infer_shape: bool = True, name: str | None = None,
           fn_output_signature: Any = None) -> Any:
    """``fn`` applied to each slice of ``elems`` along the first dimension, results stacked.

    ``elems`` may be a nested structure of tensors (all of one first dimension); ``fn`` then gets
    that structure of slices. Without ``fn_output_signature`` (or its old name ``dtype``) fn must
    return the structure and dtypes of ``elems``; otherwise give them, e.g. ``tg.int32``,
    ``(tg.float32, tg.float32)`` or ``tg.TensorSpec([2], tg.float32)``.

    >>> import tapegrad as tg
    >>> tg.map_fn(lambda row: tg.reduce_sum(row), tg.constant([[1.0, 2.0], [3.0, 4.0]])).numpy()
    array([3., 7.], dtype=float32)
    """
    sig = fn_output_signature if fn_output_signature is not None else dtype
    if sig is not None and not _output_signature(sig):
        raise TypeError(f"map_fn: fn_output_signature must be a dtype, a tg.TensorSpec or a nested structure of "
                        f"them; got {sig!r}")
    flat, n, slices = _slices(elems, "map_fn")
    if sig is None:
        sig = nest.pack_as(elems, [t.dtype for t in flat])
    results = [fn(nest.pack_as(elems, [s[i] for s in slices])) for i in builtins.range(n)]
    sig_flat = nest.flatten(sig)
    for r in results:
        if _shape_of([r]) != _shape_of([sig]):
            raise ValueError(f"map_fn: fn returned {_describe(r)}, which does not have the structure of the output "
                             f"signature {sig!r}; pass fn_output_signature=... describing what fn returns")
    leaves = [nest.flatten(r) for r in results]
    return nest.pack_as(sig, [_stack_leaf([row[j] for row in leaves], s, (), "map_fn")
                              for j, s in enumerate(sig_flat)])


def vectorized_map(fn: Callable[[Any], Any], elems: Any, fallback_to_while_loop: bool = True,
                   warn: bool = True) -> Any:
    """``fn`` applied to each slice of ``elems`` along the first dimension, results stacked; the
    output's structure and dtypes are whatever ``fn`` returns. (tapegrad runs fn once per slice.)

    >>> import tapegrad as tg
    >>> tg.vectorized_map(lambda x: x * x, tg.constant([1.0, 2.0, 3.0])).numpy()
    array([1., 4., 9.], dtype=float32)
    """
    _, n, slices = _slices(elems, "vectorized_map")
    results = [fn(nest.pack_as(elems, [s[i] for s in slices])) for i in builtins.range(n)]
    if not results:
        raise ValueError("vectorized_map: elems is empty (first dimension 0), so fn's output is unknown; use "
                         "tg.map_fn with fn_output_signature")
    first = results[0]
    for r in results[1:]:
        if _shape_of([r]) != _shape_of([first]):
            raise ValueError(f"vectorized_map: fn returned {_describe(r)} and {_describe(first)}; every call must "
                             "return the same structure")
    leaves = [nest.flatten(r) for r in results]
    return nest.pack_as(first, [_stack_leaf([row[j] for row in leaves], None, (), "vectorized_map")
                                for j in builtins.range(len(leaves[0]))])


def _accumulate(fn: Callable[[Any, Any], Any], elems: Any, initializer: Any, reverse: bool, what: str) -> tuple:
    """(accumulators in the order of elems, the starting one, the last one): the fold behind scan/foldl/foldr."""
    _, n, slices = _slices(elems, what)
    order = list(builtins.range(n))
    if reverse:
        order.reverse()
    if initializer is None:
        if n == 0:
            raise InvalidArgumentError(f"{what}: elems is empty and there is no initializer; give initializer=...")
        first = order.pop(0)
        acc = nest.pack_as(elems, [s[first] for s in slices])
        seen = {first: acc}
    else:
        acc = nest.map_structure(convert_to_tensor, initializer)
        seen = {}
    start = acc
    for i in order:
        acc = fn(acc, nest.pack_as(elems, [s[i] for s in slices]))
        if _shape_of([acc]) != _shape_of([start]):
            raise ValueError(f"{what}: fn returned {_describe(acc)}, which does not have the structure of the "
                             f"accumulator {_describe(start)}")
        seen[i] = acc
    return [seen[i] for i in builtins.range(n)], start, acc


def scan(fn: Callable[[Any, Any], Any], elems: Any, initializer: Any = None, parallel_iterations: int = 10,
         back_prop: bool = True, swap_memory: bool = False, infer_shape: bool = True, reverse: bool = False,
         name: str | None = None) -> Any:
    """Every intermediate ``a = fn(a, x)`` over the slices x of ``elems``, stacked (a running fold).

    Without ``initializer`` the first slice starts the accumulator (and is the first result).

    >>> import tapegrad as tg
    >>> tg.scan(lambda a, x: a + x, tg.constant([1.0, 2.0, 3.0])).numpy()
    array([1., 3., 6.], dtype=float32)
    """
    accs, start, _ = _accumulate(fn, elems, initializer, reverse, "scan")
    leaves = [nest.flatten(a) for a in accs]
    out = []
    for j, first in enumerate(nest.flatten(start)):
        first = convert_to_tensor(first)  # its dtype holds for every step, as in TensorFlow
        out.append(_stack_leaf([row[j] for row in leaves], first.dtype, tuple(first._value.shape), "scan"))
    return nest.pack_as(start, out)


def foldl(fn: Callable[[Any, Any], Any], elems: Any, initializer: Any = None, parallel_iterations: int = 10,
          back_prop: bool = True, swap_memory: bool = False, name: str | None = None) -> Any:
    """``a = fn(a, x)`` over the slices x of ``elems`` from first to last; returns the final ``a``.

    >>> import tapegrad as tg
    >>> float(tg.foldl(lambda a, x: a - x, tg.constant([1.0, 2.0, 3.0]), initializer=10.0))
    4.0
    """
    return _accumulate(fn, elems, initializer, False, "foldl")[2]


def foldr(fn: Callable[[Any, Any], Any], elems: Any, initializer: Any = None, parallel_iterations: int = 10,
          back_prop: bool = True, swap_memory: bool = False, name: str | None = None) -> Any:
    """``a = fn(a, x)`` over the slices x of ``elems`` from last to first; returns the final ``a``.

    >>> import tapegrad as tg
    >>> float(tg.foldr(lambda a, x: a - x, tg.constant([1.0, 2.0, 3.0])))
    0.0
    """
    return _accumulate(fn, elems, initializer, True, "foldr")[2]
