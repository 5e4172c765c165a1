"""DType objects with TensorFlow's names, and the conversion policy.

Python floats become float32 and Python ints int32, like TensorFlow; NumPy arrays
and NumPy scalars keep their dtype.
"""
from __future__ import annotations

from typing import Any

import numpy as np


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
        return as_dtype(np_dtype)
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
