"""``TensorSpec``: a shape (``None`` for a dimension of any size) and a dtype that tensors must have."""
from __future__ import annotations

from typing import Any

from .dtypes import DType, as_dtype, float32
from .tensor import Operand, TensorShape


def _dims(shape: Any) -> TensorShape | None:
    if shape is None:
        return None
    if isinstance(shape, int) or hasattr(shape, "__index__"):
        shape = (shape,)
    dims = []
    for d in shape:
        if d is None:
            dims.append(None)
            continue
        if isinstance(d, bool) or not (isinstance(d, int) or hasattr(d, "__index__")):
            raise TypeError(f"Dimension value must be integer or None or have an __index__ method, got value "
                            f"{d!r} with type {type(d)}")
        d = int(d.__index__())
        if d < 0:
            raise ValueError(f"Dimension {d} must be >= 0; write None for a dimension of any size")
        dims.append(d)
    return TensorShape(dims)


class TensorSpec:
    """What a tensor must look like: ``shape`` (``None`` for any size; ``shape=None`` for any rank)
    and ``dtype``. ``tg.function(input_signature=[...])`` and ``tg.map_fn`` take these.

    >>> import tapegrad as tg
    >>> spec = tg.TensorSpec([None, 3], tg.float32, name="x")
    >>> spec
    TensorSpec(shape=(None, 3), dtype=tf.float32, name='x')
    >>> spec.is_compatible_with(tg.zeros((5, 3))), spec.is_compatible_with(tg.zeros((5, 2)))
    (True, False)
    """

    __slots__ = ("_shape", "_dtype", "_name")

    def __init__(self, shape: Any, dtype: Any = float32, name: str | None = None) -> None:
        self._shape = _dims(shape)
        self._dtype = as_dtype(dtype)
        self._name = name

    @classmethod
    def from_tensor(cls, tensor: Any, name: str | None = None) -> TensorSpec:
        """The spec of ``tensor``: its shape and dtype.

        >>> import tapegrad as tg
        >>> tg.TensorSpec.from_tensor(tg.zeros((2, 3)))
        TensorSpec(shape=(2, 3), dtype=tf.float32, name=None)
        """
        from .tensor import convert_to_tensor

        t = tensor if isinstance(tensor, Operand) else convert_to_tensor(tensor)
        return cls(t._value.shape, t.dtype, name)

    @property
    def shape(self) -> TensorShape | None:
        """The dimensions, ``None`` where any size goes; ``None`` itself when any rank goes.

        >>> import tapegrad as tg
        >>> tg.TensorSpec([None, 3]).shape
        TensorShape([None, 3])
        """
        return self._shape

    @property
    def dtype(self) -> DType:
        """The dtype tensors must have.

        >>> import tapegrad as tg
        >>> tg.TensorSpec([2], "float64").dtype
        tf.float64
        """
        return self._dtype

    @property
    def name(self) -> str | None:
        """The name given, or None.

        >>> import tapegrad as tg
        >>> tg.TensorSpec([2], name="x").name
        'x'
        """
        return self._name

    def _shape_ok(self, shape: tuple) -> bool:
        want = self._shape
        if want is None:
            return True
        return len(want) == len(shape) and all(w is None or w == s for w, s in zip(want, shape))

    def is_compatible_with(self, spec_or_value: Any) -> bool:
        """Whether a tensor (or the tensors of another spec) could have this spec: same dtype, and
        the same size wherever both give one.

        >>> import tapegrad as tg
        >>> tg.TensorSpec([None], tg.int32).is_compatible_with(tg.constant([1, 2]))
        True
        """
        if isinstance(spec_or_value, TensorSpec):
            if spec_or_value._dtype != self._dtype:
                return False
            other = spec_or_value._shape
            if other is None or self._shape is None:
                return True
            return len(other) == len(self._shape) and all(
                a is None or b is None or a == b for a, b in zip(self._shape, other))
        try:
            spec = TensorSpec.from_tensor(spec_or_value)
        except (TypeError, ValueError):
            return False
        return spec._dtype == self._dtype and self._shape_ok(tuple(spec._shape or ()))

    def _key(self) -> tuple:
        return (None if self._shape is None else tuple(self._shape), self._dtype, self._name)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TensorSpec) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        shape = "<unknown>" if self._shape is None else str(self._shape)
        return f"TensorSpec(shape={shape}, dtype={self._dtype!r}, name={self._name!r})"
