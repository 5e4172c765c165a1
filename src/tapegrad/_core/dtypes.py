"""DType objects with TensorFlow's names, and the conversion policy.

Python floats become float32 and Python ints int32, like TensorFlow; NumPy arrays
and NumPy scalars keep their dtype.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import backend
from .backend import xp
from .state import escape


class DType:
    """A tensor's element type: ``tg.float32.name == 'float32'``.

    >>> import tapegrad as tg
    >>> tg.float32.is_floating, tg.int32.is_floating
    (True, False)
    """

    __slots__ = ("name", "as_numpy_dtype", "_np")

    def __init__(self, name: str, np_dtype: Any) -> None:
        self.name = name
        self._np = np.dtype(np_dtype)
        self.as_numpy_dtype = self._np.type

    @property
    def is_floating(self) -> bool:
        """True for float16, float32 and float64.

        >>> import tapegrad as tg
        >>> tg.float32.is_floating, tg.int32.is_floating
        (True, False)
        """
        return self._np.kind == "f"

    @property
    def is_integer(self) -> bool:
        """True for the signed and unsigned integer dtypes.

        >>> import tapegrad as tg
        >>> tg.int64.is_integer, tg.bool.is_integer
        (True, False)
        """
        return self._np.kind in "iu"

    @property
    def is_bool(self) -> bool:
        """True for bool only.

        >>> import tapegrad as tg
        >>> tg.bool.is_bool
        True
        """
        return self._np.kind == "b"

    @property
    def is_complex(self) -> bool:
        """True for complex64 and complex128.

        >>> import tapegrad as tg
        >>> tg.complex64.is_complex, tg.float64.is_complex
        (True, False)
        """
        return self._np.kind == "c"

    @property
    def size(self) -> int:
        """Bytes per element.

        >>> import tapegrad as tg
        >>> tg.float32.size
        4
        """
        return self._np.itemsize

    @property
    def min(self) -> Any:
        """The smallest (most negative) value the dtype holds.

        >>> import tapegrad as tg
        >>> int(tg.int8.min)
        -128
        """
        return np.finfo(self._np).min if self.is_floating else np.iinfo(self._np).min

    @property
    def max(self) -> Any:
        """The largest value the dtype holds.

        >>> import tapegrad as tg
        >>> int(tg.uint8.max)
        255
        """
        return np.finfo(self._np).max if self.is_floating else np.iinfo(self._np).max

    @property
    def base_dtype(self) -> DType:
        """The dtype itself (TensorFlow's reference dtypes do not exist here).

        >>> import tapegrad as tg
        >>> tg.float32.base_dtype
        tf.float32
        """
        return self

    def __repr__(self) -> str:
        return f"tf.{self.name}"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DType):
            return self._np == other._np
        try:
            return self._np == as_dtype(other)._np
        except TypeError:
            return False

    def __hash__(self) -> int:
        return hash(self._np)

    def __reduce__(self):  # pickles as the module-level singleton
        return (as_dtype, (self.name,))


float16 = DType("float16", np.float16)
float32 = DType("float32", np.float32)
float64 = DType("float64", np.float64)
int8 = DType("int8", np.int8)
int16 = DType("int16", np.int16)
int32 = DType("int32", np.int32)
int64 = DType("int64", np.int64)
uint8 = DType("uint8", np.uint8)
bool_ = DType("bool", np.bool_)
complex64 = DType("complex64", np.complex64)
complex128 = DType("complex128", np.complex128)
half, double = float16, float64

ALL = (float16, float32, float64, int8, int16, int32, int64, uint8, bool_, complex64, complex128)
_BY_NP = {d._np: d for d in ALL}
_BY_NAME = {d.name: d for d in ALL}
_BY_NAME.update(half=float16, double=float64, float=float32, int=int32)


def as_dtype(value: Any) -> DType:
    """The DType for a DType, a name, a NumPy dtype or a Python type.

    >>> import tapegrad as tg
    >>> tg.as_dtype("float64").name
    'float64'
    """
    if isinstance(value, DType):
        return value
    if isinstance(value, str):
        if value in _BY_NAME:
            return _BY_NAME[value]
        raise TypeError(f"unknown dtype {value!r}; use one of {', '.join(sorted(_BY_NAME))}")
    if value is float:
        return float32
    if value is int:
        return int32
    if value is bool:
        return bool_
    try:
        d = _BY_NP[np.dtype(value)]
    except (TypeError, KeyError):
        raise TypeError(
            f"cannot use {value!r} as a dtype; use one of tg.float16/32/64, tg.int8/16/32/64, "
            "tg.uint8, tg.bool, tg.complex64/128") from None
    return d


def of_numpy(np_dtype: np.dtype) -> DType:
    """The DType of a NumPy dtype; raises TypeError for ones tapegrad does not hold."""
    d = _BY_NP.get(np_dtype)
    if d is None:
        return as_dtype(backend.np_dtype(np_dtype))  # another library's dtype object (array_api_strict's)
    return d


# ---- which dtypes an op takes -------------------------------------------------------------------
# Ops declare the NumPy kinds they take, as TensorFlow's kernels do: "f" float, "c" complex,
# "i" signed integer, "u" unsigned integer (uint8), "b" bool. A "c" that TensorFlow takes but
# tapegrad's rule for the op does not follow TensorFlow's complex convention is refused (see
# ``ops.table.COMPLEX``): an error, never a gradient under another convention.
KINDS = {"f": "floating-point", "c": "complex", "i": "signed integer", "u": "uint8", "b": "bool"}


def of_kinds(takes: str) -> frozenset:
    """The NumPy dtypes of the kinds in ``takes``: checking membership is quicker than reading ``.kind``."""
    return frozenset(d._np for d in ALL if d._np.kind in takes)


def refusal(op: str, np_dtype: Any, takes: str) -> str:
    """Why ``op``, which takes the kinds ``takes``, refuses a tensor of ``np_dtype``; and the fix."""
    name = of_numpy(np_dtype).name
    if np_dtype.kind == "c":
        return (f"{op} does not take complex tensors (got {name}): tapegrad has no gradient for it that "
                f"follows TensorFlow's complex convention. Apply it to tg.math.real(x), tg.math.imag(x) or "
                f"tg.abs(x) instead")
    accepted = ", ".join(KINDS[k] for k in takes if k != "c")
    fix = "tg.bool" if takes == "b" else "tg.float32" if "f" in takes else "tg.int32"
    return f"{op} does not take {name} tensors (only {accepted}, as in TensorFlow); cast first: tg.cast(x, {fix})"


# ---- the conversion policy ----------------------------------------------------------------------
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1
_FLOAT32 = xp.float32


class Held:
    """What holds its array in ``_value``: the base of ``tensor.Operand`` (Tensor and Variable), so
    conversion can read one without knowing the classes built on it."""

    __slots__ = ()
    _value: Any


# Filled by the ops layer: packs a list holding tensors into one tensor (tf.stack).
PACK: list[Callable[[list, Any], Any]] = []


def _python_dtype(value: Any) -> Any:
    """TensorFlow's policy for Python values: float -> float32, int -> int32, bool -> bool."""
    if isinstance(value, bool):
        return xp.bool_
    if isinstance(value, int):
        return xp.int32 if _INT32_MIN <= value <= _INT32_MAX else xp.int64
    if isinstance(value, float):
        return xp.float32
    if isinstance(value, complex):
        return xp.complex128
    return None


def has_operand(value: Any) -> bool:
    """Whether ``value`` is, or is a list or tuple holding, a tensor or Variable."""
    if isinstance(value, Held):
        return True
    if isinstance(value, (list, tuple)):
        return any(has_operand(v) for v in value)
    return False


def to_array(value: Any, dtype: Any = None, copy: bool = False) -> Any:
    """An array for ``value`` under TensorFlow's dtype policy, cast to ``dtype`` if given.

    A Python number becomes a NumPy scalar, not a 0-d array: immutable, and NumPy's scalar
    arithmetic on it is several times faster than its ufunc path on 0-d arrays.
    """
    t = type(value)
    if t is float and dtype is None:  # the commonest case by far: a constant in an expression
        return _FLOAT32(value)
    want = None if dtype is None else as_dtype(dtype)._np
    if (t is float or t is int) and want is not None and want.kind in "fc":
        return want.type(value)
    if isinstance(value, Held):
        escape(value)
        arr = value._value
        if type(arr) not in backend.NATIVE and backend.is_foreign(arr):
            return _foreign_array(arr, want)
        if want is not None and arr.dtype != want:
            arr = arr.astype(want)
        return arr.copy() if copy and isinstance(arr, xp.ndarray) else arr
    if isinstance(value, (xp.ndarray, xp.generic)):
        arr = value
        if arr.dtype.kind == "O" or arr.dtype.kind in "SUV":
            raise TypeError(f"cannot make a tensor from an array of dtype {arr.dtype}; use numbers")
        if want is not None and arr.dtype != want:
            _check_cast(arr, want)
            arr = arr.astype(want)
        elif copy and isinstance(arr, xp.ndarray):
            arr = arr.copy()
        elif type(arr) is xp.ndarray and arr.flags.writeable:
            arr = _shared(arr)
        if arr.dtype not in _BY_NP:
            of_numpy(arr.dtype)  # raises a clear TypeError
        return arr
    py = _python_dtype(value)
    if py is not None:
        if want is not None:
            _check_cast(value, want)
        return xp.asarray(value, dtype=want if want is not None else py)[()]
    if backend.is_foreign(value):  # (after the Python numbers: they are commoner, and never another library's)
        return _foreign_array(value, want)
    if isinstance(value, (list, tuple)):
        if has_operand(value):
            packed = PACK[0](list(value), dtype)
            escape(packed)
            return packed._value
        try:
            arr = xp.asarray(value)
        except ValueError as e:
            raise ValueError(f"cannot make a tensor from a ragged list ({e}); all rows need the same length") from None
        if arr.dtype.kind == "O" or arr.dtype.kind in "SU":
            raise TypeError(f"cannot make a tensor from {type(value).__name__} {_short(value)}; use numbers")
        if want is None:
            want = {"f": xp.dtype(xp.float32), "i": xp.dtype(xp.int32), "u": xp.dtype(xp.int32),
                    "b": xp.dtype(xp.bool_), "c": xp.dtype(xp.complex128)}[arr.dtype.kind]
            if arr.dtype.kind in "iu" and arr.size and (arr.min() < _INT32_MIN or arr.max() > _INT32_MAX):
                want = xp.dtype(xp.int64)
        else:
            _check_cast(arr, want)
        return arr.astype(want, copy=False)
    if value is None:
        raise ValueError("cannot make a tensor from None; a gradient that is None means 'not connected'")
    raise TypeError(f"cannot make a tensor from {type(value).__name__} {_short(value)}; "
                    "use a number, a list of numbers, a NumPy array or a tensor")


def _foreign_array(value: Any, want: Any) -> Any:
    """Another library's array (Dask, CuPy, ...), kept in its library: cast to ``want``, never copied
    (a Variable's writes replace its array, so sharing one is safe)."""
    if not hasattr(value.dtype, "kind"):  # ops read dtypes as NumPy does (Dask's and CuPy's are NumPy's)
        lib = backend.library(value)
        raise TypeError(f"tapegrad reads an array's dtype as NumPy does (dtype.kind); {lib}'s dtype objects are "
                        f"its own, so its arrays cannot be held yet. Use NumPy, Dask or CuPy arrays: e.g. "
                        f"tg.constant(np.asarray(x)) for data on the host")
    have = backend.np_dtype(value.dtype)
    if have not in _BY_NP:
        of_numpy(have)  # raises a clear TypeError
    if want is not None and have != want:
        ns = backend.namespace(value)
        value = ns.astype(value, getattr(ns, want.name))
    return value


def _shared(arr: Any) -> Any:
    """A read-only view of the user's array: a tensor shares its memory instead of copying it.

    TensorFlow copies; a copy of a large data matrix doubles its memory. The view, never the user's
    array, is made read-only, so nothing in tapegrad can write into it, while the user still may (the
    tensor then sees the write: README, "Differences from TensorFlow").
    """
    view = arr.view()
    view.flags.writeable = False
    return view


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _check_cast(value: Any, want: Any) -> None:
    """TensorFlow refuses to turn 2.5 into an int32 tensor; so do we."""
    if want.kind in "iu" and xp.asarray(value).dtype.kind in "fc":
        arr = xp.asarray(value)
        if not xp.all(xp.isfinite(arr)) or not xp.all(arr == xp.round(arr)):
            raise TypeError(f"cannot convert {_short(value)} to an integer tensor without losing the fraction; "
                            "use tg.cast(x, tg.int32) to truncate on purpose")
