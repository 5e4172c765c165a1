"""``tf.einsum``: the equation written out in full (no ellipsis, explicit output), then one primitive."""
from __future__ import annotations

import string
from typing import Any

from tapegrad._core.record import apply
from tapegrad._core.tensor import Tensor

from . import table as T
from ._args import typed
from .array_ops import _same_dtype, broadcast_to

TensorLike = Any


def _explicit(equation: str, shapes: list) -> str:
    """``equation`` with ellipses replaced by letters and the output spelled out (NumPy's implicit rule:
    the ellipsis axes, then the labels used once, sorted)."""
    eq = equation.replace(" ", "")
    ins, arrow, out = eq.partition("->")
    subs = ins.split(",")
    if len(subs) != len(shapes):
        raise ValueError(f"einsum: the equation {equation!r} names {len(subs)} operands, got {len(shapes)}")
    bad = set(eq) - set(string.ascii_letters) - set(",->.")
    if bad or eq.count("->") > 1:
        raise ValueError(f"einsum: equation {equation!r} may hold only letters, ',', '->' and '...'")
    unused = iter(c for c in string.ascii_letters if c not in eq)
    rank = max([len(s) - len(sub.replace("...", "")) for sub, s in zip(subs, shapes) if "..." in sub] or [0])
    ell = "".join(next(unused) for _ in range(rank))
    full = []
    for sub, shape in zip(subs, shapes):
        named = len(sub.replace("...", ""))
        if "..." in sub:
            if len(shape) < named:
                raise ValueError(f"einsum: operand {sub!r} has rank {len(shape)}, fewer than its {named} labels")
            sub = sub.replace("...", ell[rank - (len(shape) - named):])
        if len(sub) != len(shape) or "." in sub:
            raise ValueError(f"einsum: operand {sub!r} does not match a tensor of shape {tuple(shape)}")
        full.append(sub)
    if arrow:
        out = out.replace("...", ell)
    else:
        letters = "".join(full)
        out = ell + "".join(sorted(c for c in set(letters) if letters.count(c) == 1 and c not in ell))
    if len(set(out)) != len(out) or set(out) - set("".join(full)):
        raise ValueError(f"einsum: the output {out!r} must name each input label at most once")
    return ",".join(full) + "->" + out


def einsum(equation: str, *inputs: TensorLike, **kwargs: Any) -> Tensor:
    """Sums of products over the labelled axes of ``equation`` (NumPy's notation, ``...`` included).

    >>> import tapegrad as tg
    >>> tg.einsum("ij,j->i", [[1.0, 2.0], [3.0, 4.0]], [1.0, 1.0]).numpy()
    array([3., 7.], dtype=float32)
    """
    if not inputs:
        raise ValueError("einsum needs at least one operand")
    xs = [typed(x, "einsum", "fci") for x in _same_dtype(list(inputs), "einsum")]
    eq = _explicit(equation, [x._value.shape for x in xs])
    subs = eq.split("->")[0].split(",")
    sizes: dict = {}
    for sub, x in zip(subs, xs):
        for c, n in zip(sub, x._value.shape):
            if sizes.get(c, 1) not in (1, n) and n != 1:
                raise ValueError(f"einsum: label {c!r} has sizes {sizes[c]} and {n} in {equation!r}")
            sizes[c] = max(sizes.get(c, 1), n)
    # Broadcast (size-1) axes are expanded first, so that the primitive's rule sees one size per label.
    xs = [broadcast_to(x, tuple(sizes[c] for c in sub)) if any(sizes[c] != n for c, n in zip(sub, x._value.shape))
          else x for sub, x in zip(subs, xs)]
    return apply(T.einsum, tuple(xs), {"equation": eq})


__all__ = ["einsum"]
