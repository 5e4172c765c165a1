"""``tf.keras.losses``: Keras 3's regression and cross-entropy losses, classes and functions, in tapegrad ops.

The semantics are Keras 3's (the Keras of TensorFlow 2.16 and later), so the same code prints the same
numbers: a loss object converts both arguments to its ``dtype`` (float32 unless given), reduces with
``reduction`` ("sum_over_batch_size", the default: the sum over the number of elements; "sum"; "none"
or None; "mean"; "mean_with_sample_weight": the sum over the sum of the weights), and weights each
sample's loss by ``sample_weight`` first. Probabilities are clipped to [1e-7, 1 - 1e-7] (Keras's epsilon)
before their logarithm; ``from_logits=True`` uses the stable fused forms instead.

>>> import tapegrad as tf
>>> mse = tf.keras.losses.MeanSquaredError()
>>> float(mse([[0.0, 1.0]], [[1.0, 1.0]]))
0.5
"""
from __future__ import annotations

from typing import Any

from tapegrad import ops as F
from tapegrad._core.dtypes import as_dtype, float32, int64
from tapegrad._core.tensor import Tensor
from tapegrad.ops._args import operand

TensorLike = Any
EPSILON = 1e-7  # keras.backend.epsilon()
_REDUCTIONS = ("sum_over_batch_size", "sum", "none", None, "mean", "mean_with_sample_weight")


def _standardize_reduction(reduction: Any) -> Any:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"Invalid value for argument `reduction`. Expected one of {set(_REDUCTIONS)}. "
                         f"Received: reduction={reduction}")
    return reduction


def _same_rank(x1: Tensor, x2: Tensor, expand_rank_1: bool = True) -> tuple[Tensor, Tensor]:
    """Keras's squeeze_or_expand_to_same_rank: drop (or add) a last axis of size 1 when ranks differ by one."""
    r1, r2 = x1._value.ndim, x2._value.ndim
    if r1 == r2 + 1 and x1._value.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = F.expand_dims(x2, -1)
        else:
            x1 = F.squeeze(x1, -1)
    if r2 == r1 + 1 and x2._value.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = F.expand_dims(x1, -1)
        else:
            x2 = F.squeeze(x2, -1)
    return x1, x2


def _as(x: TensorLike, dtype: Any) -> Tensor:
    return F.cast(operand(x), dtype)


def _pred_true(y_true: TensorLike, y_pred: TensorLike) -> tuple[Tensor, Tensor]:
    """y_pred as it is, y_true cast to its dtype."""
    y_pred = operand(y_pred)
    return F.cast(operand(y_true), y_pred.dtype), y_pred


def _check_same_shape(target: Tensor, output: Tensor, fn: str) -> None:
    if target._value.shape != output._value.shape:
        raise ValueError(f"{fn}: arguments `target` and `output` must have the same shape. Received: "
                         f"target.shape={tuple(target.shape)}, output.shape={tuple(output.shape)}")


# ---- the functions ------------------------------------------------------------------------------


def mean_squared_error(y_true: TensorLike, y_pred: TensorLike) -> Tensor:
    """mean((y_true - y_pred)**2) over the last axis: one loss per sample.

    >>> import tapegrad as tf
    >>> tf.keras.losses.mse([[0.0, 1.0]], [[1.0, 1.0]]).numpy()
    array([0.5], dtype=float32)
    """
    y_true, y_pred = _same_rank(*_pred_true(y_true, y_pred))
    return F.reduce_mean(F.square(y_true - y_pred), axis=-1)


def mean_absolute_error(y_true: TensorLike, y_pred: TensorLike) -> Tensor:
    """mean(|y_true - y_pred|) over the last axis.

    >>> import tapegrad as tf
    >>> tf.keras.losses.mae([[0.0, 1.0]], [[2.0, 1.0]]).numpy()
    array([1.], dtype=float32)
    """
    y_true, y_pred = _same_rank(*_pred_true(y_true, y_pred))
    return F.reduce_mean(F.abs(y_true - y_pred), axis=-1)


def huber(y_true: TensorLike, y_pred: TensorLike, delta: float = 1.0) -> Tensor:
    """mean over the last axis of e**2 / 2 where |e| <= delta, delta * |e| - delta**2 / 2 beyond (e = y_pred - y_true).

    >>> import tapegrad as tf
    >>> tf.keras.losses.huber([[0.0]], [[3.0]]).numpy()
    array([2.5], dtype=float32)
    """
    y_true, y_pred = _same_rank(*_pred_true(y_true, y_pred))
    d = _as(delta, y_pred.dtype)
    error = y_pred - y_true
    abs_error = F.abs(error)
    return F.reduce_mean(F.where(abs_error <= d, 0.5 * F.square(error), d * abs_error - 0.5 * F.square(d)),
                         axis=-1)


def binary_crossentropy(y_true: TensorLike, y_pred: TensorLike, from_logits: bool = False,
                        label_smoothing: float = 0.0, axis: int = -1) -> Tensor:
    """-(t log p + (1 - t) log(1 - p)), averaged over ``axis``; p clipped to [1e-7, 1 - 1e-7] unless ``from_logits``.

    ``label_smoothing`` moves the targets toward 0.5: t (1 - s) + s / 2.

    >>> import tapegrad as tf
    >>> round(float(tf.keras.losses.binary_crossentropy([[1.0]], [[0.5]])[0]), 6)
    0.693147
    """
    target, output = _pred_true(y_true, y_pred)
    if label_smoothing:
        target = target * (1.0 - label_smoothing) + 0.5 * label_smoothing
    _check_same_shape(target, output, "binary_crossentropy")
    if from_logits:
        bce = F.sigmoid_cross_entropy_with_logits(labels=target, logits=output)
    else:
        output = F.clip_by_value(output, EPSILON, 1.0 - EPSILON)
        bce = -(target * F.log(output) + (1 - target) * F.log(1 - output))
    return F.reduce_mean(bce, axis=axis)


def categorical_crossentropy(y_true: TensorLike, y_pred: TensorLike, from_logits: bool = False,
                             label_smoothing: float = 0.0, axis: int = -1) -> Tensor:
    """-sum(t log p) over ``axis``, p renormalized to sum to 1 and clipped to [1e-7, 1 - 1e-7] (or softmax of logits).

    ``label_smoothing`` s mixes the targets with the uniform distribution: t (1 - s) + s / num_classes.

    >>> import tapegrad as tf
    >>> round(float(tf.keras.losses.categorical_crossentropy([[0.0, 1.0]], [[0.5, 0.5]])[0]), 6)
    0.693147
    """
    if isinstance(axis, bool):
        raise ValueError(f"`axis` must be of type `int`. Received: axis={axis} of type {type(axis)}")
    target, output = _pred_true(y_true, y_pred)
    if label_smoothing:
        target = target * (1.0 - label_smoothing) + label_smoothing / target._value.shape[-1]
    if target._value.ndim < 1:
        raise ValueError("categorical_crossentropy: arguments `target` and `output` must be at least rank 1")
    _check_same_shape(target, output, "categorical_crossentropy")
    if from_logits:
        return F.softmax_cross_entropy_with_logits(labels=target, logits=output, axis=axis)
    output = output / F.reduce_sum(output, axis, keepdims=True)
    output = F.clip_by_value(output, EPSILON, 1.0 - EPSILON)
    return -F.reduce_sum(target * F.log(output), axis)


def sparse_categorical_crossentropy(y_true: TensorLike, y_pred: TensorLike, from_logits: bool = False,
                                    ignore_class: int | None = None, axis: int = -1) -> Tensor:
    """-log p[y_true] for integer class labels; probabilities are clipped, and (as Keras) renormalized.

    ``ignore_class``: samples with that label get loss 0.

    >>> import tapegrad as tf
    >>> round(float(tf.keras.losses.sparse_categorical_crossentropy([1], [[0.5, 0.5]])[0]), 6)
    0.693147
    """
    output = operand(y_pred)
    ndim = output._value.ndim
    if ndim < 1:
        raise ValueError("sparse_categorical_crossentropy: argument `output` must be at least rank 1")
    if axis != -1 and axis != ndim - 1:
        raise ValueError(f"Only axis=-1 is currently supported. Received: axis={axis}")
    target = operand(y_true)
    if target._value.ndim == ndim and target._value.shape[-1] == 1:
        target = F.squeeze(target, -1)
    valid = None
    if ignore_class is not None:
        valid = F.not_equal(target, F.cast(ignore_class, target.dtype))
        target = F.where(valid, target, F.zeros_like(target))
        output = F.where(F.expand_dims(valid, -1), output, F.zeros_like(output))
    target = F.cast(target, int64)
    if target._value.shape != output._value.shape[:-1]:
        raise ValueError(f"sparse_categorical_crossentropy: `target` must have the shape of `output` without its "
                         f"last axis. Received: target.shape={tuple(target.shape)}, output.shape={tuple(output.shape)}")
    if not from_logits:
        output = F.log(F.clip_by_value(output, EPSILON, 1 - EPSILON))
    res = F.sparse_softmax_cross_entropy_with_logits(labels=target, logits=output)
    return res if valid is None else F.where(valid, res, F.zeros_like(res))


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error

# ---- the classes --------------------------------------------------------------------------------


class Loss:
    """A loss object: ``loss(y_true, y_pred, sample_weight=None)`` gives the reduced, weighted loss.

    Subclasses implement ``call(y_true, y_pred)``, returning one loss per sample.

    >>> import tapegrad as tf
    >>> class L1(tf.keras.losses.Loss):
    ...     def call(self, y_true, y_pred):
    ...         return tf.reduce_sum(tf.abs(y_true - y_pred), axis=-1)
    >>> float(L1()([[0.0, 0.0]], [[1.0, 2.0]]))
    3.0
    """

    def __init__(self, name: str | None = None, reduction: Any = "sum_over_batch_size", dtype: Any = None) -> None:
        self.name = name or type(self).__name__.lower()
        self.reduction = _standardize_reduction(reduction)
        self._dtype = as_dtype(dtype or float32)

    @property
    def dtype(self) -> str:
        return self._dtype.name

    def __call__(self, y_true: TensorLike, y_pred: TensorLike, sample_weight: TensorLike = None) -> Tensor:
        y_pred = _as(y_pred, self._dtype)
        y_true = _as(y_true, self._dtype)
        mask = self._mask(y_true)
        return _reduce_weighted(self.call(y_true, y_pred), sample_weight, mask, self.reduction, self._dtype)

    def call(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__}: a Loss subclass implements call(y_true, y_pred)")

    def _mask(self, y_true: Tensor) -> Tensor | None:
        return None

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict) -> Loss:
        return cls(**config)


def _reduce_weighted(values: Tensor, sample_weight: Any, mask: Tensor | None, reduction: Any, dtype: Any) -> Tensor:
    """Keras's reduce_weighted_values: weights (times the mask) applied, then the reduction."""
    values = F.cast(values, dtype)
    if sample_weight is not None:
        sample_weight = _as(sample_weight, dtype)
    if mask is not None:
        m = F.cast(mask, dtype)
        if reduction in ("mean", "sum_over_batch_size"):  # the masked-out samples leave the count too
            m = m * F.divide_no_nan(float(m._value.size), F.reduce_sum(m))
        if sample_weight is not None:
            m, sample_weight = _same_rank(m, sample_weight)
            sample_weight = sample_weight * m
        else:
            sample_weight = m
    if sample_weight is not None:
        values, sample_weight = _same_rank(values, sample_weight)
        values = values * sample_weight
    if reduction is None or reduction == "none" or values._value.shape in ((), (0,)):
        return values
    loss = F.reduce_sum(values)
    if reduction == "sum":
        return loss
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        divisor = F.reduce_sum(sample_weight)
    else:
        divisor = F.cast(float(values._value.size), loss.dtype)
    return F.divide_no_nan(loss, divisor)


class LossFunctionWrapper(Loss):
    """A Loss made of a loss function ``fn(y_true, y_pred, **kwargs)``.

    >>> import tapegrad as tf
    >>> loss = tf.keras.losses.LossFunctionWrapper(tf.keras.losses.mae, reduction="sum")
    >>> float(loss([[0.0], [1.0]], [[1.0], [3.0]]))
    3.0
    """

    def __init__(self, fn: Any, reduction: Any = "sum_over_batch_size", name: str | None = None, dtype: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        y_true, y_pred = _same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self) -> dict:
        return {**Loss.get_config(self), **self._fn_kwargs}

    def __repr__(self) -> str:
        return f"<LossFunctionWrapper({self.fn}, kwargs={self._fn_kwargs})>"


_COMMON = ("reduction", "name", "dtype")


def _loss_class(fn: Any, default_name: str, doc: str, order: tuple = _COMMON, **defaults: Any) -> type:
    """A LossFunctionWrapper subclass for ``fn`` with Keras's name, defaults and argument order ``order``."""

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if len(args) > len(order):
            raise TypeError(f"{type(self).__name__}() takes at most {len(order)} positional arguments "
                            f"({', '.join(order)})")
        for key, value in zip(order, args):
            if key in kwargs:
                raise TypeError(f"{type(self).__name__}() got multiple values for argument {key!r}")
            kwargs[key] = value
        unknown = set(kwargs) - set(order)
        if unknown:
            raise TypeError(f"{type(self).__name__}() got unexpected keyword arguments {sorted(unknown)}; it takes "
                            f"{', '.join(order)}")
        given = {**defaults, **{k: v for k, v in kwargs.items() if k not in _COMMON}}
        LossFunctionWrapper.__init__(self, fn, reduction=kwargs.get("reduction", "sum_over_batch_size"),
                                     name=kwargs.get("name", default_name), dtype=kwargs.get("dtype"), **given)
        for k, v in given.items():
            setattr(self, k, v)

    cls_name = "Huber" if default_name == "huber_loss" else "".join(p.capitalize() for p in default_name.split("_"))
    return type(cls_name, (LossFunctionWrapper,), {"__init__": __init__, "__doc__": doc, "__module__": __name__})


_XENT = ("from_logits", "label_smoothing", "axis") + _COMMON
MeanSquaredError = _loss_class(mean_squared_error, "mean_squared_error", """Mean of squared errors: see ``mse``.

    >>> import tapegrad as tf
    >>> float(tf.keras.losses.MeanSquaredError()([[0.0, 1.0]], [[1.0, 1.0]]))
    0.5
    """)
MeanAbsoluteError = _loss_class(mean_absolute_error, "mean_absolute_error", """Mean of absolute errors: see ``mae``.

    >>> import tapegrad as tf
    >>> float(tf.keras.losses.MeanAbsoluteError()([[0.0, 1.0]], [[2.0, 1.0]]))
    1.0
    """)
Huber = _loss_class(huber, "huber_loss", """The Huber loss (quadratic within ``delta``, linear beyond): see ``huber``.

    >>> import tapegrad as tf
    >>> float(tf.keras.losses.Huber(delta=1.0)([[0.0]], [[3.0]]))
    2.5
    """, ("delta",) + _COMMON, delta=1.0)
BinaryCrossentropy = _loss_class(binary_crossentropy, "binary_crossentropy", """Binary cross entropy: see
    ``binary_crossentropy``.

    >>> import tapegrad as tf
    >>> round(float(tf.keras.losses.BinaryCrossentropy(from_logits=True)([[1.0]], [[0.0]])), 6)
    0.693147
    """, _XENT, from_logits=False, label_smoothing=0.0, axis=-1)
CategoricalCrossentropy = _loss_class(categorical_crossentropy, "categorical_crossentropy", """Cross entropy of
    one-hot or probability labels: see ``categorical_crossentropy``.

    >>> import tapegrad as tf
    >>> round(float(tf.keras.losses.CategoricalCrossentropy()([[0.0, 1.0]], [[0.5, 0.5]])), 6)
    0.693147
    """, _XENT, from_logits=False, label_smoothing=0.0, axis=-1)
_Sparse = _loss_class(sparse_categorical_crossentropy, "sparse_categorical_crossentropy", "",
                      ("from_logits", "ignore_class", "reduction", "axis", "name", "dtype"), from_logits=False,
                      ignore_class=None, axis=-1)


class SparseCategoricalCrossentropy(_Sparse):  # type: ignore[misc, valid-type]
    """Cross entropy of integer class labels: see ``sparse_categorical_crossentropy``.

    With ``ignore_class``, those samples count neither in the sum nor in the number it is divided by.

    >>> import tapegrad as tf
    >>> round(float(tf.keras.losses.SparseCategoricalCrossentropy()([1], [[0.5, 0.5]])), 6)
    0.693147
    """

    def _mask(self, y_true: Tensor) -> Tensor | None:
        if self.ignore_class is None:
            return None
        if y_true._value.ndim >= 2 and y_true._value.shape[-1] == 1:
            y_true = F.squeeze(y_true, -1)
        return F.not_equal(y_true, F.cast(self.ignore_class, y_true.dtype))


_FUNCTIONS = {"mean_squared_error": mean_squared_error, "mse": mse, "MSE": mse, "mean_absolute_error": mae,
              "mae": mae, "MAE": mae, "huber": huber, "binary_crossentropy": binary_crossentropy,
              "categorical_crossentropy": categorical_crossentropy,
              "sparse_categorical_crossentropy": sparse_categorical_crossentropy}
_CLASSES = {c.__name__: c for c in (MeanSquaredError, MeanAbsoluteError, Huber, BinaryCrossentropy,
                                    CategoricalCrossentropy, SparseCategoricalCrossentropy)}


def get(identifier: Any) -> Any:
    """A loss from its name (a function's name gives the function, a class's name an instance), or as given.

    >>> import tapegrad as tf
    >>> tf.keras.losses.get("mse") is tf.keras.losses.mean_squared_error
    True
    """
    if identifier is None or callable(identifier):
        return identifier
    if identifier in _FUNCTIONS:
        return _FUNCTIONS[identifier]
    if identifier in _CLASSES:
        return _CLASSES[identifier]()
    raise ValueError(f"Could not interpret loss identifier: {identifier!r}; tapegrad has {sorted(_FUNCTIONS)} "
                     f"and {sorted(_CLASSES)}")


__all__ = ["BinaryCrossentropy", "CategoricalCrossentropy", "Huber", "Loss", "LossFunctionWrapper", "MAE", "MSE",
           "MeanAbsoluteError", "MeanSquaredError", "SparseCategoricalCrossentropy", "binary_crossentropy",
           "categorical_crossentropy", "get", "huber", "mae", "mean_absolute_error", "mean_squared_error", "mse",
           "sparse_categorical_crossentropy"]


def __getattr__(name: str) -> object:
    raise AttributeError(f"tapegrad has no tf.keras.losses.{name}: it has {', '.join(__all__)}. Write another loss "
                         "with tapegrad ops (a function of y_true and y_pred, or a tf.keras.losses.Loss subclass "
                         "with a call method)")
