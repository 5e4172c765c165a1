"""``tg.random``: random tensors, as tf.random (NumPy's generator underneath)."""
from __future__ import annotations

from typing import Any

from tapegrad._core.backend import xp
from tapegrad._core.dtypes import as_dtype, float32
from tapegrad._core.state import impure
from tapegrad._core.tensor import Tensor, wrap
from tapegrad.ops._args import shape_param

_rng: Any = None  # made on first use: numpy.random costs ~10 ms of `import tapegrad`
_global_seed: int | None = None
# TensorFlow's eager rule for an op-level seed: each call with the same seed draws the next numbers of
# that seed's own sequence (a counter per seed), and set_seed starts every sequence again.
_calls: dict[int, int] = {}
_DEFAULT_GLOBAL_SEED = 87654321  # TensorFlow's, used when only the op has a seed


def set_seed(seed: int | None) -> None:
    """Make the random ops repeatable: after ``set_seed(s)`` the same calls draw the same numbers.

    An op's own ``seed=`` gives that op a sequence of its own, as in TensorFlow: two calls with
    ``seed=1`` draw different numbers, and ``set_seed`` starts the sequence again.

    >>> import tapegrad as tg
    >>> tg.random.set_seed(0); a = tg.random.normal((2,))
    >>> tg.random.set_seed(0); bool(tg.reduce_all(a == tg.random.normal((2,))))
    True
    """
    global _rng, _global_seed
    _rng = xp.random.default_rng(seed)
    _global_seed = None if seed is None else int(seed)
    _calls.clear()


def _gen(seed: int | None) -> Any:
    global _rng
    impure("tg.random draws new numbers on every call")
    if seed is not None:
        seed = int(seed)
        k = _calls.get(seed, 0)
        _calls[seed] = k + 1
        g = _DEFAULT_GLOBAL_SEED if _global_seed is None else _global_seed
        return xp.random.default_rng([abs(g), abs(seed), k, (g < 0) + 2 * (seed < 0)])
    if _rng is None:
        _rng = xp.random.default_rng()
    return _rng


def normal(shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = float32, seed: int | None = None,
           name: str | None = None) -> Tensor:
    """Samples of a normal distribution (float32 by default).

    >>> import tapegrad as tg
    >>> tg.random.normal((2, 3)).shape
    TensorShape([2, 3])
    """
    return wrap(_gen(seed).normal(mean, stddev, shape_param(shape)).astype(as_dtype(dtype)._np))


def uniform(shape: Any, minval: float = 0.0, maxval: float = 1.0, dtype: Any = float32, seed: int | None = None,
            name: str | None = None) -> Tensor:
    """Samples of a uniform distribution on [minval, maxval) (float32 by default).

    >>> import tapegrad as tg
    >>> bool(tg.reduce_all(tg.random.uniform((5,)) < 1.0))
    True
    """
    d = as_dtype(dtype)
    shape = shape_param(shape)
    if d.is_integer:
        return wrap(_gen(seed).integers(int(minval), int(maxval), shape).astype(d._np))
    return wrap(_gen(seed).uniform(minval, maxval, shape).astype(d._np))
