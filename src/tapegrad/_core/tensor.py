"""Tensor (immutable), Variable (mutable, watched when read) and conversion to them.

The engine knows no operation: arithmetic dunders are installed on ``Operand`` by
the ops layer (``tapegrad.ops.operators``). The conversion policy (Python values to
dtypes, ``to_array``) is in ``dtypes``.
"""
from __future__ import annotations

from threading import Lock
from typing import Any

from . import dtypes as _dt
from .backend import NATIVE, to_numpy, xp
from .dtypes import PACK, Held, has_operand, to_array
from .state import ACTIVE, STATE, escape, impure


class TensorShape(tuple):
    """A tuple of dimensions with TensorFlow's TensorShape helpers.

    >>> import tapegrad as tg
    >>> tg.constant([[1.0, 2.0]]).shape.as_list()
    [1, 2]
    """

    def as_list(self) -> list[int]:
        """The dimensions as a list of ints.

        >>> import tapegrad as tg
        >>> tg.zeros((2, 3)).shape.as_list()
        [2, 3]
        """
        return list(self)

    @property
    def rank(self) -> int:
        """The number of dimensions (also ``ndims``).

        >>> import tapegrad as tg
        >>> tg.zeros((2, 3)).shape.rank
        2
        """
        return len(self)

    ndims = rank

    def num_elements(self) -> int:
        """The number of elements: the product of the dimensions.

        >>> import tapegrad as tg
        >>> tg.zeros((2, 3)).shape.num_elements()
        6
        """
        n = 1
        for d in self:
            n *= d
        return n

    def __repr__(self) -> str:
        return f"TensorShape({list(self)})"

    def __str__(self) -> str:
        return tuple.__repr__(self)


class Operand(Held):
    """What Tensor and Variable share: reading, printing, Python conversions.

    Arithmetic and comparison operators are added by ``tapegrad.ops``.
    """

    __slots__ = ()
    _value: Any
    __array_priority__ = 100

    @property
    def shape(self) -> TensorShape:
        return TensorShape(self._value.shape)

    @property
    def dtype(self) -> _dt.DType:
        return _dt.of_numpy(self._value.dtype)

    @property
    def ndim(self) -> int:
        return self._value.ndim

    def numpy(self) -> Any:
        """The value as a NumPy array (a NumPy scalar for a 0-d tensor).

        >>> import tapegrad as tg
        >>> tg.constant([1.0, 2.0]).numpy()
        array([1., 2.], dtype=float32)
        """
        escape(self)
        v = self._value
        if type(v) not in NATIVE:
            v = to_numpy(v)  # a Dask array is computed here, a CuPy array copied from the GPU
        return v[()] if v.ndim == 0 else v

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        escape(self)
        a = xp.asarray(to_numpy(self._value), dtype=dtype)
        return a.copy() if copy else a

    def __float__(self) -> float:
        return float(self._scalar("float"))

    def __int__(self) -> int:
        return int(self._scalar("int"))

    def __index__(self) -> int:
        if self._value.dtype.kind not in "iub":
            raise TypeError(f"only integer tensors can be used as an index; this one is {self.dtype.name}")
        return int(self._scalar("index"))

    def __complex__(self) -> complex:
        return complex(self._scalar("complex"))

    def __bool__(self) -> bool:
        return bool(self._scalar("bool"))

    def _scalar(self, what: str) -> Any:
        escape(self)
        v = self._value
        if type(v) not in NATIVE:
            v = to_numpy(v)
        if v.size != 1:
            raise ValueError(
                f"{what}() of a tensor needs exactly one element; this one has shape {tuple(v.shape)}. "
                "Reduce it first (tg.reduce_all, tg.reduce_any, tg.reduce_sum) or index one element.")
        return v.reshape(())[()]

    def __len__(self) -> int:
        if self._value.ndim == 0:
            raise TypeError("len() of a scalar tensor is not defined")
        return self._value.shape[0]

    def __iter__(self):
        if self._value.ndim == 0:
            raise TypeError("iteration over a scalar tensor is not possible")
        for i in range(self._value.shape[0]):
            yield self[i]  # type: ignore[index]

    def __format__(self, spec: str) -> str:
        if self._value.ndim == 0:
            return format(self._value[()], spec)
        return format(str(self), spec)

    __hash__ = None  # type: ignore[assignment]  # == is element-wise, as in TensorFlow 2

    def ref(self) -> _Ref:
        """A hashable reference to this object, for use as a dict key or in a set.

        >>> import tapegrad as tg
        >>> x = tg.constant(1.0)
        >>> {x.ref(): "x"}[x.ref()]
        'x'
        """
        return _Ref(self)

    def experimental_ref(self) -> _Ref:
        return _Ref(self)

    def __copy__(self) -> Operand:
        return self

    def __deepcopy__(self, memo: Any) -> Operand:
        return self


class _Ref:
    __slots__ = ("_obj",)

    def __init__(self, obj: Operand) -> None:
        self._obj = obj

    def deref(self) -> Operand:
        return self._obj

    def __hash__(self) -> int:
        return id(self._obj)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Ref) and other._obj is self._obj


def _value_text(v: Any) -> str:
    return str(v[()] if v.ndim == 0 else v)


class Tensor(Operand):
    """An immutable array that operations produce and tapes record.

    Made by ``tg.constant``, ``tg.convert_to_tensor`` and every operation.

    >>> import tapegrad as tg
    >>> print(tg.constant(200.0))
    tf.Tensor(200.0, shape=(), dtype=float32)
    """

    __slots__ = ("_value", "__weakref__")

    def __init__(self, value: Any, dtype: Any = None) -> None:
        self._value = to_array(value, dtype)

    def __str__(self) -> str:
        v = self._value
        return f"tf.Tensor({_value_text(v)}, shape={tuple(v.shape)}, dtype={self.dtype.name})"

    def __repr__(self) -> str:
        v = self._value
        shown = v[()] if v.ndim == 0 else repr(v)
        return f"<tf.Tensor: shape={tuple(v.shape)}, dtype={self.dtype.name}, numpy={shown}>"


def wrap(value: Any) -> Tensor:
    """A Tensor around an array an op just made (no copy, no checks)."""
    t = object.__new__(Tensor)
    t._value = value
    return t


class Variable(Operand):
    """A mutable tensor: the parameters you optimize.

    Read inside a ``GradientTape``, a trainable Variable is watched automatically.

    >>> import tapegrad as tg
    >>> w = tg.Variable(1.0)
    >>> _ = w.assign_sub(0.25)
    >>> w.numpy()
    np.float32(0.75)
    """

    __slots__ = ("_value", "_trainable", "_name", "_lock", "__weakref__")
    _count = 0

    def __init__(self, initial_value: Any = None, trainable: bool = True, name: str | None = None,
                 dtype: Any = None, shape: Any = None) -> None:
        if initial_value is None:
            raise ValueError("Variable() needs an initial_value, e.g. tg.Variable(1.0) or tg.Variable([1.0, 2.0])")
        if callable(initial_value) and not isinstance(initial_value, Operand):
            initial_value = initial_value()
        impure("tg.Variable() creates a new Variable on every call")
        value = to_array(initial_value, dtype, copy=True)
        if shape is not None and tuple(shape) != tuple(value.shape):
            raise ValueError(f"Variable(): initial value has shape {tuple(value.shape)}, not shape={tuple(shape)}")
        self._value = value
        self._trainable = bool(trainable)
        self._name = STATE.scope + (name if name is not None else "Variable")  # inside tg.name_scope: prefixed
        self._lock = Lock()  # assign_add from several threads must not lose updates (TensorFlow serialises them)

    def __getstate__(self) -> tuple:
        return self._value, self._trainable, self._name

    def __setstate__(self, state: tuple) -> None:
        self._value, self._trainable, self._name = state
        self._lock = Lock()

    @property
    def trainable(self) -> bool:
        """False when made with ``trainable=False``: tapes then do not watch it automatically.

        >>> import tapegrad as tg
        >>> tg.Variable(1.0).trainable, tg.Variable(1.0, trainable=False).trainable
        (True, False)
        """
        return self._trainable

    @property
    def name(self) -> str:
        """The name with TensorFlow's output suffix ``:0``.

        >>> import tapegrad as tg
        >>> tg.Variable(1.0, name='w').name
        'w:0'
        """
        return f"{self._name}:0"

    def _write(self, how: str, value: Any) -> Variable:
        dtype = self._value.dtype
        if isinstance(value, Operand):
            v = value._value
            vdtype = v.dtype
            if vdtype is not dtype and vdtype != dtype:
                # TensorFlow's rule: a tensor is never cast silently (Python numbers and NumPy arrays are converted).
                raise ValueError(f"{how}: Tensor conversion requested dtype {_dt.of_numpy(dtype).name} for Tensor "
                                 f"with dtype {_dt.of_numpy(v.dtype).name}: Variable '{self.name}' holds "
                                 f"{_dt.of_numpy(dtype).name}. Cast the value first: "
                                 f"v.{how}(tg.cast(value, v.dtype))")
        else:
            v = to_array(value, dtype, copy=how == "assign")  # the Variable's own copy, as TensorFlow's
        lock = self._lock
        lock.acquire()  # (not `with`: twice as quick, and this is every descent step)
        try:
            cur = self._value
            new = cur - v if how == "assign_sub" else v if how == "assign" else cur + v
            fitted = new.shape != cur.shape
            if fitted:
                new = fit(new, cur.shape, how, self.name)
            tracer = STATE.trace if ACTIVE else None
            if tracer is not None:
                tracer.assigned(self, how, value, fitted)
            # A new array, never an in-place write: tensors read from this Variable earlier keep their values.
            self._value = new
        finally:
            lock.release()
        return self

    def assign(self, value: Any, use_locking: Any = None, name: Any = None, read_value: bool = True) -> Variable:
        """Replace the value (same shape and dtype).

        >>> import tapegrad as tg
        >>> tg.Variable(1.0).assign(3.0).numpy()
        np.float32(3.0)
        """
        return self._write("assign", value)

    def assign_add(self, delta: Any, use_locking: Any = None, name: Any = None,
                   read_value: bool = True) -> Variable:
        """Add ``delta`` to the value.

        >>> import tapegrad as tg
        >>> tg.Variable(1.0).assign_add(2.0).numpy()
        np.float32(3.0)
        """
        return self._write("assign_add", delta)

    def assign_sub(self, delta: Any, use_locking: Any = None, name: Any = None,
                   read_value: bool = True) -> Variable:
        """Subtract ``delta`` from the value.

        >>> import tapegrad as tg
        >>> tg.Variable(1.0).assign_sub(0.5).numpy()
        np.float32(0.5)
        """
        return self._write("assign_sub", delta)

    def read_value(self) -> Tensor:
        """The current value as a Tensor (recorded, so gradients flow back to this Variable).

        >>> import tapegrad as tg
        >>> print(tg.Variable(2.0).read_value())
        tf.Tensor(2.0, shape=(), dtype=float32)
        """
        from .record import read
        return read(self)

    value = read_value

    def numpy(self) -> Any:
        escape(self)
        v = self._value
        if type(v) not in NATIVE:
            return to_numpy(v).copy()
        return v[()] if v.ndim == 0 else v.copy()

    def __str__(self) -> str:
        return self.__repr__()

    def __repr__(self) -> str:
        v = self._value
        return (f"<tf.Variable '{self.name}' shape={tuple(v.shape)} dtype={self.dtype.name}, "
                f"numpy={v[()] if v.ndim == 0 else repr(v)}>")


def fit(new: Any, shape: tuple, how: str, name: str) -> Any:
    """A value written to a Variable of ``shape``: a scalar is broadcast, a single element reshaped."""
    if new.shape == ():
        return xp.broadcast_to(new, shape).copy()
    if new.size == 1 and all(d == 1 for d in shape):
        return new.reshape(shape)
    raise ValueError(
        f"{how}(): cannot put a value of shape {tuple(new.shape)} into Variable '{name}' "
        f"of shape {tuple(shape)}; reshape the value or make a new Variable")


def convert_to_tensor(value: Any, dtype: Any = None, dtype_hint: Any = None, name: str | None = None) -> Tensor:
    """A Tensor for ``value``; a Tensor comes back as it is.

    Python floats become float32, ints int32; NumPy arrays keep their dtype.

    >>> import tapegrad as tg
    >>> tg.convert_to_tensor([1, 2]).dtype.name
    'int32'
    """
    if type(value) is Tensor:
        if dtype is not None and _dt.as_dtype(dtype)._np != value._value.dtype:
            raise ValueError(f"Tensor conversion requested dtype {_dt.as_dtype(dtype).name} for a Tensor with "
                             f"dtype {value.dtype.name}; use tg.cast(x, {_dt.as_dtype(dtype).name!r}) to convert")
        return value
    if isinstance(value, Variable):
        from .record import read
        t = read(value)
        if dtype is not None and _dt.as_dtype(dtype)._np != value._value.dtype:
            raise ValueError(f"Tensor conversion requested dtype {_dt.as_dtype(dtype).name} for a Variable with "
                             f"dtype {value.dtype.name}; use tg.cast(x, {_dt.as_dtype(dtype).name!r}) to convert")
        return t
    if isinstance(value, (list, tuple)) and has_operand(value):
        return PACK[0](list(value), dtype)  # stacked and recorded, like TensorFlow's auto-packing
    if dtype is None and dtype_hint is not None and not isinstance(value, (xp.ndarray, xp.generic)):
        try:
            return wrap(to_array(value, dtype_hint))
        except (TypeError, ValueError):
            pass
    return wrap(to_array(value, dtype))


def constant(value: Any, dtype: Any = None, shape: Any = None, name: str | None = None) -> Tensor:
    """A Tensor holding ``value``; with ``shape``, a scalar is broadcast to it.

    >>> import tapegrad as tg
    >>> print(tg.constant(10.0))
    tf.Tensor(10.0, shape=(), dtype=float32)
    """
    arr = to_array(value, dtype)  # a NumPy array is shared, not copied: a read-only view of it (see to_array)
    if shape is not None:
        shape = tuple(shape)
        if arr.size == 1:
            arr = xp.broadcast_to(arr.reshape(()), shape).copy()
        elif arr.size == int(xp.prod(shape)):
            arr = arr.reshape(shape)
        else:
            raise TypeError(f"constant(): {arr.size} values cannot fill shape {shape}")
    return wrap(arr)
