"""``tg.random``: random tensors, as tf.random (NumPy's generator underneath)."""
from __future__ import annotations

from typing import Any

from tapegrad._core.backend import xp
from tapegrad._core.dtypes import as_dtype, float32, to_array
from tapegrad._core.errors import InvalidArgumentError
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


# ---- flow13: truncated_normal, shuffle, categorical, Generator ------------------------------------------

def _float_dtype(dtype: Any, what: str) -> Any:
    d = as_dtype(dtype)
    if not d.is_floating:
        raise TypeError(f"{what} draws floating-point numbers; dtype={d.name} cannot hold them. Use tg.float32 "
                        "or tg.float64 (and tg.cast the result if integers are wanted)")
    return d


def _truncated(rng: Any, shape: tuple, mean: Any, stddev: Any, d: Any) -> Tensor:
    z = rng.standard_normal(shape)
    out = xp.abs(z) > 2.0
    while out.any():  # TensorFlow's rule: a draw more than 2 standard deviations out is drawn again
        z[out] = rng.standard_normal(int(out.sum()))
        out = xp.abs(z) > 2.0
    return wrap((mean + stddev * z).astype(d._np))


def truncated_normal(shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = float32,
                     seed: int | None = None, name: str | None = None) -> Tensor:
    """Samples of a normal distribution, each within 2 standard deviations of the mean.

    >>> import tapegrad as tg
    >>> bool(tg.reduce_all(tg.abs(tg.random.truncated_normal((100,))) <= 2.0))
    True
    """
    d = _float_dtype(dtype, "truncated_normal")
    return _truncated(_gen(seed), shape_param(shape), mean, stddev, d)


def shuffle(value: Any, seed: int | None = None, name: str | None = None) -> Tensor:
    """``value`` with its slices along the first dimension in a random order (no gradient, as in TF).

    >>> import tapegrad as tg
    >>> sorted(tg.random.shuffle(tg.range(5)).numpy().tolist())
    [0, 1, 2, 3, 4]
    """
    arr = to_array(value)
    if arr.ndim == 0:
        return wrap(arr)
    return wrap(arr[_gen(seed).permutation(arr.shape[0])])


def _categorical(rng: Any, logits: Any, num_samples: Any, dtype: Any) -> Tensor:
    d = as_dtype("int64" if dtype is None else dtype)
    if d.name not in ("int32", "int64"):
        raise ValueError(f"categorical: dtype must be tg.int32 or tg.int64, not {d.name}")
    arr = to_array(logits)
    if arr.ndim != 2:
        raise InvalidArgumentError(f"categorical: logits should be a matrix [batch, classes], got shape "
                                   f"{tuple(arr.shape)}; for one distribution pass [logits]")
    if arr.dtype.kind != "f":
        raise InvalidArgumentError(f"categorical: logits must be floating point, not {arr.dtype}; tg.cast them")
    n = int(num_samples)
    if n < 0:
        raise InvalidArgumentError(f"categorical: num_samples should be nonnegative, got {n}")
    batch, classes = arr.shape
    if n == 0 or batch == 0:
        return wrap(xp.zeros((batch, n), d._np))
    # The Gumbel-max trick: argmax(logits + Gumbel noise) is a draw from softmax(logits); -inf never wins.
    noise = rng.gumbel(size=(batch, n, classes))
    return wrap(xp.argmax(arr.astype(xp.float64)[:, None, :] + noise, axis=-1).astype(d._np))


def categorical(logits: Any, num_samples: int, dtype: Any = None, seed: int | None = None,
                name: str | None = None) -> Tensor:
    """Draws from categorical distributions: row i of ``logits`` (shape [batch, classes]) gives
    unnormalised log-probabilities; the result [batch, num_samples] holds class indices (int64).

    >>> import tapegrad as tg
    >>> tg.random.categorical(tg.math.log([[0.0, 1.0]]), 4).numpy().tolist()
    [[1, 1, 1, 1]]
    """
    return _categorical(_gen(seed), logits, num_samples, dtype)


# Keeps a Generator's sequences apart from those of set_seed and op seeds (NumPy pads short seeds with zeros).
_GENERATOR_TAG = 0x6E6


class Generator:
    """A random number generator with a state of its own (TensorFlow's ``tf.random.Generator``).

    Two generators made from the same seed draw the same numbers; ``split`` makes independent
    ones. NumPy's PCG64 is underneath, so the numbers differ from TensorFlow's Philox.

    >>> import tapegrad as tg
    >>> a = tg.random.Generator.from_seed(1).normal((3,))
    >>> b = tg.random.Generator.from_seed(1).normal((3,))
    >>> bool(tg.reduce_all(a == b))
    True
    """

    def __init__(self, copy_from: Generator | None = None, state: Any = None, alg: Any = None) -> None:
        if copy_from is not None:
            if not isinstance(copy_from, Generator):
                raise TypeError(f"Generator(copy_from=...) needs a Generator, not {type(copy_from).__name__}")
            self._rng = xp.random.Generator(type(copy_from._rng.bit_generator)())
            self._rng.bit_generator.state = copy_from._rng.bit_generator.state
        elif state is not None:
            raise NotImplementedError("Generator(state=...) is not supported: tapegrad's generators are not "
                                      "TensorFlow's Philox; use Generator.from_seed(seed)")
        else:
            self._rng = xp.random.default_rng()

    @classmethod
    def from_seed(cls, seed: Any, alg: Any = None) -> Generator:
        """A generator whose numbers are fixed by ``seed``.

        >>> import tapegrad as tg
        >>> g = tg.random.Generator.from_seed(7)
        >>> g.uniform((2,)).shape
        TensorShape([2])
        """
        g = cls.__new__(cls)
        g.reset_from_seed(seed)
        return g

    @classmethod
    def from_non_deterministic_state(cls, alg: Any = None) -> Generator:
        """A generator seeded from the operating system's entropy.

        >>> import tapegrad as tg
        >>> tg.random.Generator.from_non_deterministic_state().normal(()).shape
        TensorShape([])
        """
        return cls()

    def reset_from_seed(self, seed: Any) -> None:
        """Start again as ``from_seed(seed)`` would.

        >>> import tapegrad as tg
        >>> g = tg.random.Generator.from_seed(3); a = g.normal((2,))
        >>> g.reset_from_seed(3); bool(tg.reduce_all(a == g.normal((2,))))
        True
        """
        s = int(to_array(seed))
        self._rng = xp.random.default_rng([abs(s), int(s < 0), _GENERATOR_TAG])

    def _draw(self) -> Any:
        impure("a tg.random.Generator draws new numbers on every call")
        return self._rng

    def normal(self, shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = float32,
               name: str | None = None) -> Tensor:
        """Samples of a normal distribution.

        >>> import tapegrad as tg
        >>> tg.random.Generator.from_seed(1).normal((2, 3)).shape
        TensorShape([2, 3])
        """
        d = _float_dtype(dtype, "Generator.normal")
        return wrap((mean + stddev * self._draw().standard_normal(shape_param(shape))).astype(d._np))

    def truncated_normal(self, shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = float32,
                         name: str | None = None) -> Tensor:
        """Samples of a normal distribution within 2 standard deviations of the mean.

        >>> import tapegrad as tg
        >>> float(tg.reduce_max(tg.abs(tg.random.Generator.from_seed(1).truncated_normal((50,))))) <= 2.0
        True
        """
        d = _float_dtype(dtype, "Generator.truncated_normal")
        return _truncated(self._draw(), shape_param(shape), mean, stddev, d)

    def uniform(self, shape: Any, minval: Any = 0, maxval: Any = None, dtype: Any = float32,
                name: str | None = None) -> Tensor:
        """Samples of a uniform distribution on [minval, maxval) (maxval 1 for floats).

        Integer dtypes need both bounds, or neither for the dtype's full range.

        >>> import tapegrad as tg
        >>> g = tg.random.Generator.from_seed(1)
        >>> x = g.uniform((100,), minval=2, maxval=5, dtype=tg.int32)
        >>> bool(tg.reduce_all((x >= 2) & (x < 5)))
        True
        """
        d = as_dtype(dtype)
        shape = shape_param(shape)
        if d.is_integer:
            if minval is None and maxval is None:
                info = xp.iinfo(d._np)
                return wrap(self._draw().integers(info.min, info.max, shape, dtype=d._np, endpoint=True))
            if minval is None or maxval is None:
                raise ValueError(f"For integer dtype {d.name}, minval and maxval must be both `None` or both "
                                 f"non-`None`; got minval={minval} and maxval={maxval}")
            return wrap(self._draw().integers(int(minval), int(maxval), shape).astype(d._np))
        d = _float_dtype(d, "Generator.uniform")
        lo = 0.0 if minval is None else minval
        hi = 1.0 if maxval is None else maxval
        return wrap(self._draw().uniform(lo, hi, shape).astype(d._np))

    def split(self, count: int = 1) -> list:
        """``count`` new generators, independent of this one and of each other; this one moves on.

        >>> import tapegrad as tg
        >>> a, b = tg.random.Generator.from_seed(1).split(2)
        >>> bool(tg.reduce_all(a.normal((3,)) == b.normal((3,))))
        False
        """
        keys = self._draw().integers(0, 2 ** 63 - 1, size=int(count), dtype=xp.int64)
        out = []
        for k in keys:
            g = Generator.__new__(Generator)
            g._rng = xp.random.default_rng([int(k), 2, _GENERATOR_TAG])  # 2: apart from every from_seed one
            out.append(g)
        return out


_global_generator: Generator | None = None


def get_global_generator() -> Generator:
    """The generator ``Generator`` methods use when none is given (made on first use).

    >>> import tapegrad as tg
    >>> isinstance(tg.random.get_global_generator(), tg.random.Generator)
    True
    """
    global _global_generator
    if _global_generator is None:
        _global_generator = Generator()
    return _global_generator


def set_global_generator(generator: Generator) -> None:
    """Replace the global generator.

    >>> import tapegrad as tg
    >>> tg.random.set_global_generator(tg.random.Generator.from_seed(0))
    """
    global _global_generator
    if not isinstance(generator, Generator):
        raise TypeError(f"set_global_generator needs a tg.random.Generator, not {type(generator).__name__}")
    _global_generator = generator
