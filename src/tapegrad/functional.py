"""Function transforms, as in JAX and autograd: ``grad``, ``jacobian``, ``hessian``, ``jvp``, ...

Each takes a Python function and returns a new one (or, for ``jvp``/``vjp``/``hvp``,
evaluates it). Arguments may be tensors, Variables, NumPy arrays, numbers, or lists,
tuples and dicts of them (a list is a container of separate arguments, as in JAX:
pass ``np.array([...])`` or ``tg.constant([...])`` for a vector). Python floats become
float32 and NumPy arrays keep their dtype, as everywhere in tapegrad. Results are
tensors, and the transforms compose: ``grad(grad(f))`` is the second derivative.

Reverse mode is a GradientTape, forward mode a ForwardAccumulator; a derivative of a
derivative simply runs one inside the other.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from tapegrad import ops
from tapegrad._core import nest
from tapegrad._core.backend import xp
from tapegrad._core.dtypes import of_numpy
from tapegrad._core.tensor import Operand, to_array, wrap
from tapegrad.autodiff import ForwardAccumulator
from tapegrad.autodiff import batched as batched_accumulator
from tapegrad.tape import GradientTape

__all__ = ["elementwise_grad", "grad", "hessian", "hvp", "jacfwd", "jacobian", "jacrev", "jvp", "value_and_grad",
           "vjp"]

ArgNums = int | Sequence[int]
_ZERO = "zero"  # transforms return zeros, not None, for inputs the output does not depend on (as JAX does)


# ---- arguments and outputs ----------------------------------------------------------------------
def _argnums(argnums: ArgNums, nargs: int, who: str) -> tuple[tuple[int, ...], bool]:
    """The differentiated positions, and whether a single one was asked for (then results are unwrapped)."""
    single = not isinstance(argnums, (tuple, list))
    idx = (argnums,) if single else tuple(argnums)
    if not idx:
        raise ValueError(f"{who}: argnums is empty; name at least one argument to differentiate, e.g. argnums=0")
    out = []
    for i in idx:
        if not hasattr(i, "__index__") or isinstance(i, bool) or not -nargs <= int(i) < nargs:
            raise ValueError(f"{who}: argnums={argnums!r} does not fit a call with {nargs} positional argument(s); "
                             "argnums counts positional arguments from 0")
        out.append(int(i) % nargs)
    return tuple(out), single


def _leaf(x: Any, who: str, where: str) -> Operand:
    """A fresh tensor for one differentiated leaf (a copy: the same tensor passed twice gets two gradients)."""
    if isinstance(x, Operand):
        t = ops.identity(x)
    else:
        try:
            t = wrap(to_array(x))
        except (TypeError, ValueError) as e:
            raise TypeError(f"{who}: {where} cannot be differentiated: {e}") from None
    if t._value.dtype.kind not in "fc":
        raise TypeError(f"{who}: {where} has dtype {of_numpy(t._value.dtype).name}; derivatives need floating-point "
                        "inputs: pass 3.0 rather than 3, or an array of floats")
    return t


def _prepare(args: tuple, idx: tuple[int, ...], who: str, fresh: bool = False) -> tuple[list, list]:
    """``args`` with the differentiated ones made tensors, and the list of those (one structure per argnum).

    ``fresh``: the differentiated arguments are already tensors of their own (an outer transform's leaves),
    used as they are.
    """
    args = list(args)
    if fresh:
        return args, [args[i] for i in idx]
    for i in idx:
        args[i] = nest.map_structure(lambda x, i=i: _leaf(x, who, f"argument {i}"), args[i])
    return args, [args[i] for i in idx]


def _split_aux(out: Any, has_aux: bool, who: str) -> tuple[Any, Any]:
    if not has_aux:
        return out, None
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise TypeError(f"{who}(has_aux=True): f must return a pair (output, aux), got {type(out).__name__}")
    return out[0], out[1]


def _output(y: Any, who: str) -> Operand:
    if isinstance(y, Operand):
        return y
    if y is None:
        raise TypeError(f"{who}: f returned None; return the tensor to differentiate")
    try:
        return wrap(to_array(y))
    except (TypeError, ValueError) as e:
        raise TypeError(f"{who}: f must return tensors (or numbers/arrays), got {type(y).__name__}: {e}") from None


def _scalar(y: Any, who: str) -> Operand:
    if isinstance(y, (list, tuple, dict)):
        raise TypeError(f"{who} needs f to return one scalar, not a {type(y).__name__}; use jacobian for several "
                        "outputs, or has_aux=True to return (value, extra)")
    y = _output(y, who)
    if y._value.size != 1:
        raise ValueError(f"{who} needs f to return a scalar, but it returned shape {tuple(y._value.shape)}; reduce "
                         "it (tg.reduce_sum, tg.reduce_mean), use elementwise_grad for an element-wise function, or "
                         "jacobian for every derivative")
    return y


def _pick(blocks: list, single: bool) -> Any:
    return blocks[0] if single else tuple(blocks)


# ---- reverse mode -------------------------------------------------------------------------------
def value_and_grad(f: Callable[..., Any], argnums: ArgNums = 0, has_aux: bool = False) -> Callable[..., Any]:
    """A function returning ``(f(*args), grad(f)(*args))`` from one evaluation of ``f``.

    With ``has_aux=True``, ``f`` returns ``(value, aux)`` and the result is ``((value, aux), grad)``.

    >>> import tapegrad as tg
    >>> value, slope = tg.value_and_grad(lambda w: w ** 2)(3.0)
    >>> float(value), float(slope)
    (9.0, 6.0)
    """
    return _value_and_grad(f, argnums, has_aux, "value_and_grad")


def _value_and_grad(f: Callable[..., Any], argnums: ArgNums, has_aux: bool, who: str) -> Callable[..., Any]:
    @functools.wraps(f)
    def value_and_grad_f(*args: Any, **kwargs: Any) -> Any:
        idx, single = _argnums(argnums, len(args), who)
        args, diff = _prepare(args, idx, who)
        with GradientTape(watch_accessed_variables=False) as tape:
            tape.watch(diff)
            out = f(*args, **kwargs)
        y, aux = _split_aux(out, has_aux, who)
        y = _scalar(y, who)
        grads = tape.gradient(y, diff, unconnected_gradients=_ZERO)
        return ((y, aux) if has_aux else y), _pick(grads, single)

    return value_and_grad_f


def grad(f: Callable[..., Any], argnums: ArgNums = 0, has_aux: bool = False) -> Callable[..., Any]:
    """The gradient of a scalar function: ``grad(f)(x)`` is df/dx, shaped like x.

    ``argnums`` picks the argument(s) to differentiate (a tuple gives a tuple of gradients).
    Arguments may be numbers, arrays, tensors, or lists/dicts of them; the gradient has
    the same structure. Transforms compose, so ``grad(grad(f))`` is the second derivative.

    >>> import tapegrad as tg
    >>> f = lambda x: x ** 3
    >>> tg.grad(f)(2.0).numpy(), tg.grad(tg.grad(f))(2.0).numpy(), tg.grad(tg.grad(tg.grad(f)))(2.0).numpy()
    (np.float32(12.0), np.float32(12.0), np.float32(6.0))
    >>> tg.grad(lambda p: p["w"] * p["b"])({"w": 3.0, "b": 2.0})["w"].numpy()
    np.float32(2.0)
    """
    vg = _value_and_grad(f, argnums, has_aux, "grad")

    @functools.wraps(f)
    def grad_f(*args: Any, **kwargs: Any) -> Any:
        value, g = vg(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return grad_f


def elementwise_grad(f: Callable[..., Any], argnums: ArgNums = 0) -> Callable[..., Any]:
    """The gradient of ``sum(f(x))``: for an element-wise ``f``, each element's own derivative.

    >>> import tapegrad as tg
    >>> import numpy as np
    >>> tg.elementwise_grad(tg.tanh)(np.array([0.0, 1.0])).numpy().round(3)
    array([1.  , 0.42])
    """
    def summed(*args: Any, **kwargs: Any) -> Any:
        return ops.reduce_sum(_output(f(*args, **kwargs), "elementwise_grad"))

    return functools.wraps(f)(grad(summed, argnums))


def vjp(f: Callable[..., Any], *primals: Any, has_aux: bool = False) -> tuple:
    """``(f(*primals), vjp_fn)``; ``vjp_fn(u)`` is u^T J, a tuple with one entry per primal.

    ``vjp_fn`` may be called several times (with different cotangents ``u``).

    >>> import tapegrad as tg
    >>> y, vjp_fn = tg.vjp(lambda x, y: x * y, 2.0, 5.0)
    >>> [g.numpy() for g in vjp_fn(1.0)]
    [np.float32(5.0), np.float32(2.0)]
    """
    args, diff = _prepare(primals, tuple(range(len(primals))), "vjp")
    tape = GradientTape(persistent=True, watch_accessed_variables=False)
    with tape:
        tape.watch(diff)
        out = f(*args)
    out, aux = _split_aux(out, has_aux, "vjp")
    flat_out = [_output(o, "vjp") for o in nest.flatten(out)]

    def vjp_fn(cotangent: Any) -> tuple:
        cts = nest.flatten(cotangent)
        if len(cts) != len(flat_out):
            raise ValueError(f"vjp_fn: f has {len(flat_out)} output(s) but got {len(cts)} cotangent(s); give one "
                             "per output, in f's output structure")
        return tuple(tape.gradient(flat_out, diff, output_gradients=cts, unconnected_gradients=_ZERO))

    return (out, vjp_fn, aux) if has_aux else (out, vjp_fn)


def jacrev(f: Callable[..., Any], argnums: ArgNums = 0, has_aux: bool = False) -> Callable[..., Any]:
    """The Jacobian by reverse mode (every output element's row in one batched backward pass): shape
    out.shape + in.shape.

    For several outputs or ``argnums``, the result nests like JAX's: output structure outside,
    one block per argument inside.

    >>> import tapegrad as tg
    >>> tg.jacrev(lambda x: x ** 2)(tg.constant([1.0, 2.0])).numpy()
    array([[2., 0.],
           [0., 4.]], dtype=float32)
    """
    return _jacrev(f, argnums, has_aux)


def _jacrev(f: Callable[..., Any], argnums: ArgNums, has_aux: bool, fresh: bool = False) -> Callable[..., Any]:
    """``jacrev``; ``fresh``: called by an outer transform with its own leaves (see ``_prepare``)."""
    @functools.wraps(f)
    def jacrev_f(*args: Any, **kwargs: Any) -> Any:
        idx, single = _argnums(argnums, len(args), "jacrev")
        args, diff = _prepare(args, idx, "jacrev", fresh)
        tape = GradientTape(persistent=True, watch_accessed_variables=False)
        with tape:
            tape.watch(diff)
            out = f(*args, **kwargs)
        out, aux = _split_aux(out, has_aux, "jacrev")
        blocks = [_pick(_rows(tape, _output(o, "jacrev"), diff), single) for o in nest.flatten(out)]
        jac = nest.pack_as(out, blocks)
        return (jac, aux) if has_aux else jac

    return jacrev_f


def _rows(tape: GradientTape, o: Operand, diff: list) -> list:
    """The Jacobian blocks of one output, one per differentiated argument; a one-element output's is its
    gradient (one row: the batched walk would only add a batch axis of 1)."""
    if o._value.size != 1:
        return tape.jacobian(o, diff, unconnected_gradients=_ZERO)
    grads = nest.flatten(tape.gradient(o, diff, unconnected_gradients=_ZERO))
    shapes = [tuple(o._value.shape) + tuple(s._value.shape) for s in nest.flatten(diff)]
    return nest.pack_as(diff, [g if tuple(g._value.shape) == shape else ops.reshape(g, shape)
                               for g, shape in zip(grads, shapes)])


def jacfwd(f: Callable[..., Any], argnums: ArgNums = 0, has_aux: bool = False) -> Callable[..., Any]:
    """The Jacobian by forward mode (every input element's tangent in one forward pass): shape
    out.shape + in.shape.

    Cheaper than ``jacrev`` when there are fewer inputs than outputs.

    >>> import tapegrad as tg
    >>> tg.jacfwd(lambda x: tg.stack([x[0] * x[1], x[0]]))(tg.constant([2.0, 3.0])).numpy()
    array([[3., 2.],
           [1., 0.]], dtype=float32)
    """
    return _jacfwd(f, argnums, has_aux, "jacfwd", batched=True)


# Elements (tangent rows x largest input) one batched forward pass may hold; more rows take more passes.
_TANGENTS_BUDGET = 1 << 22


def _jacfwd(f: Callable[..., Any], argnums: ArgNums, has_aux: bool, who: str, batched: bool) -> Callable[..., Any]:
    """``jacfwd``; ``batched=False`` runs f once per input element (one tangent each) instead of pushing the
    basis tangents through together, which is what the batched route is tested against."""
    @functools.wraps(f)
    def jacfwd_f(*args: Any, **kwargs: Any) -> Any:
        idx, single = _argnums(argnums, len(args), who)
        args, diff = _prepare(args, idx, who)
        leaves = nest.flatten(diff)
        sizes = [int(leaf._value.size) for leaf in leaves]
        n = sum(sizes)
        chunk = max(1, min(n, _TANGENTS_BUDGET // max(max(sizes, default=1), 1))) if batched else 1
        out = aux = None
        parts: list[list] = []  # per pass: the flat output tangents, [rows] + output shape (or None)
        for begin in range(0, n, chunk):
            stop = min(n, begin + chunk)
            with _basis(leaves, sizes, begin, stop, batched) as acc:
                result = f(*args, **kwargs)
            out, aux = _split_aux(result, has_aux, who)
            flat = [_output(o, who) for o in nest.flatten(out)]
            ts = acc.jvp(flat)
            parts.append([None if t is None else t if batched else ops.expand_dims(t, 0) for t in ts])
        if out is None:  # every input is empty: f still fixes the output structure
            out, aux = _split_aux(f(*args, **kwargs), has_aux, who)
        flat_out = [_output(o, who) for o in nest.flatten(out)]
        blocks = []
        for m, o in enumerate(flat_out):
            oshape = tuple(o._value.shape)
            rows = [p[m] if p[m] is not None else None for p in parts]
            tangent = None
            if any(r is not None for r in rows):
                rows = [ops.zeros((min(n, (i + 1) * chunk) - i * chunk,) + oshape, o.dtype) if r is None else r
                        for i, r in enumerate(rows)]
                tangent = rows[0] if len(rows) == 1 else ops.concat(rows, 0)
            per_leaf = []
            offset = 0
            for leaf, size in zip(leaves, sizes):
                shape = oshape + tuple(leaf._value.shape)
                if tangent is None or size == 0:
                    per_leaf.append(ops.zeros(shape, o.dtype))
                else:
                    block = tangent if size == n else tangent[offset:offset + size]
                    # [input element] + out.shape -> out.shape + [input element]: the input's axes go last
                    block = ops.transpose(block, tuple(range(1, len(oshape) + 1)) + (0,)) if oshape else block
                    per_leaf.append(ops.reshape(block, shape))
                offset += size
            blocks.append(_pick(nest.pack_as(diff, per_leaf), single))
        jac = nest.pack_as(out, blocks)
        return (jac, aux) if has_aux else jac

    return jacfwd_f


def _basis(leaves: list, sizes: list, begin: int, stop: int, batched: bool) -> ForwardAccumulator:
    """An accumulator carrying basis tangents begin..stop of all the inputs' elements (counted across the
    leaves in order): all of them at once in rows, or (``batched=False``, stop == begin + 1) just the one."""
    rows = stop - begin
    tangents = []
    offset = 0
    for leaf, size in zip(leaves, sizes):
        v = leaf._value
        basis = xp.zeros((rows, size), dtype=v.dtype)
        lo, hi = max(begin, offset), min(stop, offset + size)
        if lo < hi:
            basis[xp.arange(lo - begin, hi - begin), xp.arange(lo - offset, hi - offset)] = 1
        tangents.append(wrap(basis.reshape((rows,) + tuple(v.shape) if batched else tuple(v.shape))))
        offset += size
    return batched_accumulator(leaves, tangents, rows) if batched else ForwardAccumulator(leaves, tangents)


def jacobian(f: Callable[..., Any], argnums: ArgNums = 0, has_aux: bool = False) -> Callable[..., Any]:
    """The Jacobian of ``f``: ``jacrev``, as in JAX (use ``jacfwd`` when inputs are fewer than outputs).

    >>> import tapegrad as tg
    >>> tg.jacobian(lambda x, y: x * y, argnums=(0, 1))(2.0, 5.0)[1].numpy()
    np.float32(2.0)
    """
    return jacrev(f, argnums, has_aux)


def hessian(f: Callable[..., Any], argnums: ArgNums = 0, has_aux: bool = False) -> Callable[..., Any]:
    """The Hessian: shape out.shape + in.shape + in.shape (for several ``argnums`` or outputs, nested as JAX's).

    Reverse over reverse: the Jacobian, every row in one batched backward pass, of the gradient
    (JAX's ``jacfwd(jacrev(f))`` gives the same numbers; on tapegrad's eager ops this is the quicker route).

    >>> import tapegrad as tg
    >>> tg.hessian(lambda x: x[0] ** 2 * x[1])(tg.constant([1.0, 3.0])).numpy()
    array([[6., 2.],
           [2., 0.]], dtype=float32)
    """
    return _hessian(f, argnums, has_aux, "reverse")


def _hessian(f: Callable[..., Any], argnums: ArgNums, has_aux: bool, route: str) -> Callable[..., Any]:
    """The Hessian by ``route``: "reverse" (jacrev of jacrev), "forward" (jacfwd of jacrev, basis tangents
    batched) or "per_element" (jacfwd of jacrev, one forward pass per input element)."""
    inner = _jacrev(f, argnums, has_aux, fresh=True)
    if route == "reverse":
        outer = jacrev(inner, argnums, has_aux)
    else:
        outer = _jacfwd(inner, argnums, has_aux, "hessian", batched=route == "forward")
    return functools.wraps(f)(outer)


# ---- forward mode -------------------------------------------------------------------------------
def _tuple_args(value: Any, what: str, who: str) -> tuple:
    if not isinstance(value, (tuple, list)):
        raise TypeError(f"{who}: {what} must be a tuple with one entry per argument of f, e.g. {who}(f, (x,), (v,)); "
                        f"got {type(value).__name__}")
    return tuple(value)


def jvp(f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any], has_aux: bool = False) -> tuple:
    """``(f(*primals), J v)``: the derivative of ``f`` at ``primals`` along ``tangents``, by forward mode.

    ``primals`` and ``tangents`` are tuples with one entry per argument of ``f``.

    >>> import tapegrad as tg
    >>> y, dy = tg.jvp(lambda x, y: x * y, (2.0, 5.0), (1.0, 0.0))
    >>> float(y), float(dy)
    (10.0, 5.0)
    """
    primals = _tuple_args(primals, "primals", "jvp")
    tangents = _tuple_args(tangents, "tangents", "jvp")
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: {len(primals)} primals but {len(tangents)} tangents; give one tangent per primal")
    args, diff = _prepare(primals, tuple(range(len(primals))), "jvp")
    with ForwardAccumulator(diff, list(tangents)) as acc:
        out = f(*args)
    out, aux = _split_aux(out, has_aux, "jvp")
    flat = [_output(o, "jvp") for o in nest.flatten(out)]
    tangent_out = nest.pack_as(out, acc.jvp(flat, unconnected_gradients=_ZERO))
    return (out, tangent_out, aux) if has_aux else (out, tangent_out)


def hvp(f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]) -> Any:
    """The Hessian of scalar ``f`` at ``primals`` times ``tangents``, without forming the Hessian.

    Forward over reverse: one gradient, pushed forward along ``tangents``. With one
    primal the result is shaped like it; with several, a tuple of one block per primal.

    >>> import tapegrad as tg
    >>> tg.hvp(lambda x: tg.reduce_sum(x ** 3), (tg.constant([1.0, 2.0]),), (tg.constant([1.0, 1.0]),)).numpy()
    array([ 6., 12.], dtype=float32)
    """
    primals = _tuple_args(primals, "primals", "hvp")
    n = len(primals)
    _, hv = jvp(grad(f, argnums=tuple(range(n))), primals, tangents)
    return hv[0] if n == 1 else hv
