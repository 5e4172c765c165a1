"""The optimizer's state, read after each step for ``minimize(record="state")``: one number per column.

Columns (each describes the step taken from its row's point, like ``lr``; NaN in the last row):

- ``step_norm``: how far the step moved the parameters (Euclidean norm over all of them), every optimizer;
- ``<slot>_norm`` for each per-parameter slot of a Keras-style optimizer, over all parameters:
  Adam's ``momentum_norm`` (first moment) and ``velocity_norm`` (second moment), SGD with
  momentum's ``momentum_norm`` (its velocity), RMSprop's ``velocity_norm`` (its accumulator),
  Adagrad's ``accumulator_norm``, ...;
- ``alpha``: Adam's (AdamW's) bias-corrected step size, ``lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)``;
- ``pairs``: L-BFGS's curvature pairs in memory.

The learning rate a schedule gave is the ``lr`` column, recorded in every run.

>>> import tapegrad as tg
>>> h = tg.minimize(lambda w: w ** 2, 1.0, optimizer="adam", learning_rate=0.1, steps=3, record="state").history
>>> h.state_columns
['step_norm', 'momentum_norm', 'velocity_norm', 'alpha']
"""
from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from tapegrad.optimizers import LBFGS, Optimizer
from tapegrad.optimizers.keras_base import KerasOptimizer
from tapegrad.optimizers.rules import AdamRule
from tapegrad.optimizers.variables import on_device, sum_of_squares

__all__ = ["state_reader"]


def _norm(arrays: list) -> float:
    """The joint norm; a device's arrays are reduced there, only their square sums come over."""
    total = 0.0
    for x in arrays:
        if on_device(x):
            total += sum_of_squares(x)
        else:
            a = np.asarray(x, np.float64)
            total += float(np.vdot(a, a))
    return math.sqrt(total)


def state_reader(opt: Optimizer, variables: list) -> tuple[list[str], Callable[[list], list[float]]]:
    """The state columns for ``opt``, and a function of the values before a step giving them after it."""
    columns = ["step_norm"]
    slots: list[str] = []
    if isinstance(opt, KerasOptimizer):
        slots = opt.get_slot_names()
        columns += [f"{s}_norm" for s in slots]
    adam = isinstance(opt, KerasOptimizer) and isinstance(opt._rule, AdamRule)
    columns += ["alpha"] if adam else []
    columns += ["pairs"] if isinstance(opt, LBFGS) else []

    def read(before: list) -> list[float]:
        out = [_norm([v._value - (b if on_device(b) else np.asarray(b, v._value.dtype))
                      for v, b in zip(variables, before)])]
        if slots:
            entries = [opt._slots.get(id(v)) for v in variables]
            out += [_norm([e[1][i] for e in entries if e is not None]) for i in range(len(slots))]
        if adam:
            out.append(float(opt._rule.prepare(int(opt.iterations._value) - 1, opt._lr.at(
                int(opt.iterations._value) - 1), None)[0]))
        if isinstance(opt, LBFGS):
            out.append(float(len(opt._pairs)))
        return out

    return columns, read
