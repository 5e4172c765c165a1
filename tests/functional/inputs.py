"""Random valid inputs for an op spec of ``tests/ops/specs.py``, at small fixed shapes."""
from __future__ import annotations

import numpy as np

from ..ops.specs import Spec


def spec_inputs(spec: Spec, seed: int) -> list:
    n = len(spec.domains)
    if spec.shapes == "unary":
        shapes = [(2, 3)] * n
    elif spec.shapes == "broadcast":
        shapes = [(2, 3), (3,), (2, 1)][:n]
    else:
        shapes = list(spec.shapes)
    rng = np.random.default_rng(seed)
    return [d.sample(rng, tuple(s)) for d, s in zip(spec.domains, shapes)]
