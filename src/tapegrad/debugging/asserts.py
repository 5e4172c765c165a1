"""``tf.debugging`` assertions: ``assert_equal``, ``assert_near``, ``assert_shapes``, with TensorFlow's
eager messages. (Meant to be exposed as ``tg.debugging.assert_*``.)

Each returns None when the condition holds and raises otherwise: InvalidArgumentError for values,
ValueError for shapes, as TensorFlow does in eager mode.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from tapegrad._core.dtypes import as_dtype
from tapegrad._core.errors import InvalidArgumentError
from tapegrad._core.tensor import Tensor, convert_to_tensor
from tapegrad.ops import abs as _abs
from tapegrad.ops import equal, less, reduce_all

__all__ = ["assert_equal", "assert_near", "assert_shapes"]


def _prefix(message: Any) -> str:
    return f"{message}.  " if message else ""


def assert_equal(x: Any, y: Any, message: str | None = None, summarize: int | None = None,
                 name: str | None = None) -> None:
    """Raise InvalidArgumentError unless ``x == y`` everywhere (broadcasting as ``tg.equal`` does).

    >>> import tapegrad as tg
    >>> from tapegrad.debugging.asserts import assert_equal
    >>> assert_equal(tg.constant([1, 2]), [1, 2])
    >>> assert_equal(tg.constant([1, 2]), [1, 3])
    Traceback (most recent call last):
    ...
    tapegrad._core.errors.InvalidArgumentError: Condition x == y did not hold.
    Indices of first 1 different values:
    [[1]]
    Corresponding x values:
    [2]
    Corresponding y values:
    [3]
    First 2 elements of x:
    [1 2]
    First 2 elements of y:
    [1 3]
    """
    x, y = convert_to_tensor(x), convert_to_tensor(y)
    test = equal(x, y)
    if bool(reduce_all(test)):
        return
    n = 3 if summarize is None else (10 ** 9 if summarize < 0 else int(summarize))
    # TensorFlow's _make_assert_msg_data, then one line per item.
    lines: list[Any] = [] if message is None else [message]
    lines.append("Condition x == y did not hold.")
    if n > 0:
        xv, yv = x._value, y._value
        if xv.shape == yv.shape and xv.ndim:
            bad = ~np.asarray(test._value)
            idx = np.argwhere(bad)
            k = min(n, idx.shape[0])
            lines += [f"Indices of first {k} different values:", idx[:k],
                      "Corresponding x values:", xv[bad].reshape(-1)[:k],
                      "Corresponding y values:", yv[bad].reshape(-1)[:k]]
        xf, yf = np.asarray(xv).reshape(-1), np.asarray(yv).reshape(-1)
        lines += [f"First {min(xf.size, n)} elements of x:", xf[:n], f"First {min(yf.size, n)} elements of y:", yf[:n]]
    raise InvalidArgumentError("\n".join(str(item) for item in lines))


def assert_near(x: Any, y: Any, rtol: Any = None, atol: Any = None, message: str | None = None,
                summarize: int | None = None, name: str | None = None) -> None:
    """Raise InvalidArgumentError unless ``|x - y| < atol + rtol * |y|`` everywhere. The tolerances
    default to 10 machine epsilons of x's dtype; y is converted to x's dtype.

    >>> import tapegrad as tg
    >>> from tapegrad.debugging.asserts import assert_near
    >>> assert_near(tg.constant([1.0, 2.0]), [1.0, 2.000001])
    >>> assert_near(tg.constant([1.0, 2.0]), [1.0, 2.1], rtol=0.1)
    """
    x = convert_to_tensor(x)
    if x.dtype.is_complex:
        real = as_dtype("float32" if x.dtype.name == "complex64" else "float64")
    elif x.dtype.is_floating:
        real = x.dtype
    else:
        raise ValueError(f"assert_near compares floating-point tensors; x has dtype {x.dtype.name}. "
                         "Use assert_equal for integers")
    try:
        y = convert_to_tensor(y, dtype=x.dtype)
    except (TypeError, ValueError) as e:
        raise ValueError(f"assert_near: y: {e}") from None
    eps = np.finfo(real._np).eps
    rtol_t = convert_to_tensor(10 * eps if rtol is None else rtol, dtype=real)
    atol_t = convert_to_tensor(10 * eps if atol is None else atol, dtype=real)
    if bool(reduce_all(less(_abs(x - y), atol_t + rtol_t * _abs(y)))):
        return
    n = 3 if summarize is None else (10 ** 9 if summarize < 0 else int(summarize))

    def values(t: Tensor) -> str:
        flat = np.asarray(t._value).reshape(-1)
        shown = ", ".join(str(v) for v in flat[:n])  # NumPy scalars: float32 shows as float32 ("2.1")
        return shown + (", ..." if flat.size > n else "")

    tolerance = f"rtol = {str(rtol_t._value)}, atol = {str(atol_t._value)}"  # str: float32 digits
    lines = [f"{_prefix(message)}x and y not equal to tolerance {tolerance}",
             f"x (shape={x.shape} dtype={x.dtype.name}) = ", values(x),
             f"y (shape={y.shape} dtype={y.dtype.name}) = ", values(y)]
    raise InvalidArgumentError("\n".join(lines))


def assert_shapes(shapes: Any, data: Any = None, summarize: int | None = None, message: str | None = None,
                  name: str | None = None) -> None:
    """Raise ValueError unless the tensors' shapes fit the given ones, where a string names a size
    that must be the same wherever it appears, ``None`` or ``"."`` is any size, and a leading
    ``"*"`` or ``...`` stands for any number of leading dimensions.

    ``shapes`` is a list of (tensor, shape) pairs. As in TensorFlow, a one-entry shape also
    accepts a scalar.

    >>> import tapegrad as tg
    >>> from tapegrad.debugging.asserts import assert_shapes
    >>> x, y = tg.zeros((2, 3)), tg.zeros((3,))
    >>> assert_shapes([(x, ("N", "Q")), (y, ("Q",))])
    >>> assert_shapes([(x, ("N", "Q")), (y, ("N",))])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: Specified by tensor shape=(2, 3) ... dimension 0 must have size 2.  Received size 3, shape (3,)
    """
    if isinstance(shapes, dict):
        shapes = shapes.items()
    pre = _prefix(message)
    checks = []
    for x, symbolic in shapes:
        if symbolic is None:
            continue
        t = convert_to_tensor(x)
        label = f"shape={t.shape} dtype={t.dtype.name}"
        if not (hasattr(symbolic, "__iter__") or hasattr(symbolic, "__getitem__")):
            raise ValueError(f"{pre}Tensor {label}.  Specified shape must be an iterable.  An iterable has the "
                             f"attribute `__iter__` or `__getitem__`.  Received specified shape: {symbolic}")
        symbolic = tuple(symbolic)
        leading = False
        for i, s in enumerate(symbolic):
            if s is Ellipsis or (isinstance(s, str) and s == "*"):
                if i != 0:
                    raise ValueError(f"{pre}Tensor {label} specified shape index {i}.  Symbol `...` or `*` for a "
                                     "variable number of unspecified dimensions is only allowed as the first entry")
                leading = True
        sizes = symbolic[1:] if leading else symbolic
        checks.append((t, label, leading, tuple(t._value.shape) or (1,), sizes or (1,)))
    # Ranks first, as TensorFlow checks them before any size. (In eager mode its rank messages name no tensor.)
    for t, _, leading, _, sizes in checks:
        rank, actual = len(sizes), t._value.ndim
        if leading:
            if rank > 1 and actual < rank:
                raise ValueError(f"{pre}Tensor  must have rank at least {rank}.  Received rank {actual}, "
                                 f"shape {t.shape}")
        elif rank in (0, 1):
            if actual not in (0, 1):
                raise ValueError(f"{pre}Tensor  must have rank in (0, 1).  Received rank {actual}, shape {t.shape}")
        elif actual != rank:
            raise ValueError(f"{pre}Tensor  must have rank {rank}.  Received rank {actual}, shape {t.shape}")
    known: dict = {}
    for t, label, leading, actual_sizes, sizes in checks:
        for i, s in enumerate(sizes):
            if s is None or (isinstance(s, str) and s == "."):
                continue
            dim = i - len(sizes) if leading else i
            actual = actual_sizes[dim]
            explicit = _as_int(s)
            if explicit is not None:
                want, how = explicit, "Specified explicitly"
            elif s in known:
                want, by, at = known[s]
                how = f"Specified by tensor {by} dimension {at}"
            else:
                known[s] = (actual, label, dim)
                continue
            if actual != want:
                raise ValueError(f"{pre}{how}.  Tensor {label} dimension {dim} must have size {want}.  Received "
                                 f"size {actual}, shape {t.shape}")


def _as_int(s: Any) -> int | None:
    if isinstance(s, str):
        try:
            return int(s)
        except ValueError:
            return None
    try:
        return int(s)
    except (TypeError, ValueError):
        return None
