"""The update rules of Keras's optimizers, one parameter at a time, in NumPy.

Each rule follows Keras 3's ``update_step`` operation for operation (where epsilon goes,
how the bias correction is folded into the step), so a float64 run matches Keras's
formulas to the last bits. A rule has:

- ``slot_names``, and ``init(value)``: the per-parameter state (zeros unless said otherwise);
- ``prepare(step, lr, extra)``: what one update step shares across parameters (``step``
  counts from 0; ``extra`` is state kept per optimizer, e.g. Nadam's running product);
- ``leaf(g, slots, ctx)``: ``(delta, new_slots)`` where ``param + delta`` is the new value.

Rules never write into their inputs: every update makes new arrays. They are written against ``xp``
(NumPy) with the array API's names only, so ``backend.forward_in`` runs the same code on another
library's arrays (a CuPy or ``array_api_strict`` parameter's slots stay on its device).
"""
from __future__ import annotations

import math
from typing import Any

from tapegrad._core.backend import xp

from . import _checks as C


class Rule:
    """Base: a rule with no per-parameter state and the learning rate as its step context."""

    slot_names: tuple[str, ...] = ()
    extra0: Any = None
    plain = False  # whether the step is w - g * lr, with no state: the optimizer's fast path

    def init(self, value: Any) -> tuple:
        return tuple(xp.zeros_like(value) for _ in self.slot_names)

    def prepare(self, step: int, lr: float, extra: Any) -> tuple[Any, Any]:
        return lr, extra

    def leaf(self, g: Any, slots: tuple, ctx: Any) -> tuple[Any, tuple]:
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if k not in ("slot_names", "plain")}


def _unit(name: str, value: Any) -> float:
    return C.number(name, value, 0, 1)


def _beta(name: str, value: Any) -> float:
    # 1 is refused: Adam divides by 1 - beta_1 ** t, and beta_2 = 1 makes every step zero (PyTorch's range too).
    return C.number(name, value, 0, 1, open_high=True)


def _positive(name: str, value: Any) -> float:
    return C.number(name, value, 0)


class SGDRule(Rule):
    """``w -= lr * g``; with momentum ``m = momentum * m - lr * g; w += m``.

    Nesterov steps by ``momentum * m - lr * g`` instead of ``m``.
    """

    def __init__(self, momentum: float = 0.0, nesterov: bool = False) -> None:
        self.momentum = _unit("momentum", momentum)
        self.nesterov = C.flag("nesterov", nesterov)
        self.slot_names = ("momentum",) if self.momentum != 0 else ()
        self.plain = not self.slot_names

    def leaf(self, g: Any, slots: tuple, lr: float) -> tuple[Any, tuple]:
        if not self.slot_names:
            return -(g * lr), slots
        mu = self.momentum
        m = slots[0] * mu - g * lr
        if self.nesterov:
            return m * mu - g * lr, (m,)
        return m, (m,)


class AdamRule(Rule):
    """Adam as Keras writes it: ``w -= m * alpha / (sqrt(v) + eps)`` with ``alpha = lr * sqrt(1 - b2^t) / (1 - b1^t)``.

    The bias correction sits in ``alpha``, so epsilon is added to the *uncorrected*
    ``sqrt(v)`` (the "epsilon hat" of Kingma and Ba), unlike optax and PyTorch.
    """

    def __init__(self, beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7,
                 amsgrad: bool = False) -> None:
        self.beta_1 = _beta("beta_1", beta_1)
        self.beta_2 = _beta("beta_2", beta_2)
        self.epsilon = _positive("epsilon", epsilon)
        self.amsgrad = C.flag("amsgrad", amsgrad)
        self.slot_names = ("momentum", "velocity", "velocity_hat") if self.amsgrad else ("momentum", "velocity")

    def prepare(self, step: int, lr: float, extra: Any) -> tuple[Any, Any]:
        t = step + 1
        return lr * math.sqrt(1 - self.beta_2 ** t) / (1 - self.beta_1 ** t), extra

    def leaf(self, g: Any, slots: tuple, alpha: float) -> tuple[Any, tuple]:
        m = slots[0] + (g - slots[0]) * (1 - self.beta_1)
        v = slots[1] + (g * g - slots[1]) * (1 - self.beta_2)
        if self.amsgrad:
            v_hat = xp.maximum(slots[2], v)
            return -((m * alpha) / (xp.sqrt(v_hat) + self.epsilon)), (m, v, v_hat)
        return -((m * alpha) / (xp.sqrt(v) + self.epsilon)), (m, v)


class RMSpropRule(Rule):
    """``v = rho v + (1 - rho) g^2; w -= lr g / sqrt(v + eps)`` (epsilon inside the root).

    Optionally centered (subtract the squared running mean of g) and with momentum.
    """

    def __init__(self, rho: float = 0.9, momentum: float = 0.0, epsilon: float = 1e-7,
                 centered: bool = False) -> None:
        self.rho = _unit("rho", rho)
        self.momentum = _unit("momentum", momentum)
        self.epsilon = _positive("epsilon", epsilon)
        self.centered = C.flag("centered", centered)
        self.slot_names = ("velocity",) + (("momentum",) if self.momentum > 0 else ()) + (
            ("average_gradient",) if self.centered else ())

    def leaf(self, g: Any, slots: tuple, lr: float) -> tuple[Any, tuple]:
        rho = self.rho
        v = rho * slots[0] + (1 - rho) * (g * g)
        new = [v]
        if self.centered:
            a = rho * slots[-1] + (1 - rho) * g
            denominator = v - a * a + self.epsilon
        else:
            denominator = v + self.epsilon
        increment = (lr * g) / xp.sqrt(denominator)
        if self.momentum > 0:
            mom = self.momentum * slots[1] + increment
            new.append(mom)
            delta = -mom
        else:
            delta = -increment
        if self.centered:
            new.append(a)
        return delta, tuple(new)


class AdagradRule(Rule):
    """``acc += g^2; w -= lr g / sqrt(acc + eps)``, the accumulator starting at ``initial_accumulator_value``."""

    slot_names = ("accumulator",)

    def __init__(self, initial_accumulator_value: float = 0.1, epsilon: float = 1e-7) -> None:
        self.initial_accumulator_value = _positive("initial_accumulator_value", initial_accumulator_value)
        self.epsilon = _positive("epsilon", epsilon)

    def init(self, value: Any) -> tuple:
        return (xp.full_like(value, self.initial_accumulator_value),)

    def leaf(self, g: Any, slots: tuple, lr: float) -> tuple[Any, tuple]:
        acc = slots[0] + g * g
        return -((lr * g) / xp.sqrt(acc + self.epsilon)), (acc,)


class AdadeltaRule(Rule):
    """Zeiler's Adadelta: the step is ``-sqrt(E[dx^2] + eps) / sqrt(E[g^2] + eps) * g``, scaled by ``lr``."""

    slot_names = ("accumulated_grad", "accumulated_delta_var")

    def __init__(self, rho: float = 0.95, epsilon: float = 1e-7) -> None:
        self.rho = _unit("rho", rho)
        self.epsilon = _positive("epsilon", epsilon)

    def leaf(self, g: Any, slots: tuple, lr: float) -> tuple[Any, tuple]:
        rho, eps = self.rho, self.epsilon
        acc_g = rho * slots[0] + (1 - rho) * (g * g)
        delta_var = -((xp.sqrt(slots[1] + eps) * g) / xp.sqrt(acc_g + eps))
        acc_d = rho * slots[1] + (1 - rho) * (delta_var * delta_var)
        return lr * delta_var, (acc_g, acc_d)


class AdamaxRule(Rule):
    """Adam with the infinity norm: ``u = max(b2 u, |g|); w -= lr m / ((1 - b1^t) (u + eps))``."""

    slot_names = ("momentum", "norm")

    def __init__(self, beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7) -> None:
        self.beta_1 = _beta("beta_1", beta_1)
        self.beta_2 = _beta("beta_2", beta_2)
        self.epsilon = _positive("epsilon", epsilon)

    def prepare(self, step: int, lr: float, extra: Any) -> tuple[Any, Any]:
        return (lr, 1 - self.beta_1 ** (step + 1)), extra

    def leaf(self, g: Any, slots: tuple, ctx: tuple) -> tuple[Any, tuple]:
        lr, correction = ctx
        m = slots[0] + (g - slots[0]) * (1 - self.beta_1)
        u = xp.maximum(self.beta_2 * slots[1], xp.abs(g))
        return -((lr * m) / (correction * (u + self.epsilon))), (m, u)


class NadamRule(Rule):
    """Adam with Nesterov momentum (Dozat), with Keras's momentum schedule ``b1 (1 - 0.5 * 0.96^t)``."""

    slot_names = ("momentum", "velocity")
    extra0 = 1.0  # the running product of the momentum schedule

    def __init__(self, beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7) -> None:
        self.beta_1 = _beta("beta_1", beta_1)
        self.beta_2 = _beta("beta_2", beta_2)
        self.epsilon = _positive("epsilon", epsilon)

    def prepare(self, step: int, lr: float, u_product: float) -> tuple[Any, Any]:
        t = step + 1
        b1 = self.beta_1
        u_product = u_product * b1 * (1.0 - 0.5 * 0.96 ** t)
        u_t = b1 * (1.0 - 0.5 * 0.96 ** t)
        u_t_1 = b1 * (1.0 - 0.5 * 0.96 ** (t + 1))
        return (lr, u_t, u_t_1, u_product, u_product * u_t_1, self.beta_2 ** t), u_product

    def leaf(self, g: Any, slots: tuple, ctx: tuple) -> tuple[Any, tuple]:
        lr, u_t, u_t_1, u_product_t, u_product_t_1, beta_2_power = ctx
        m = slots[0] + (g - slots[0]) * (1 - self.beta_1)
        v = slots[1] + (g * g - slots[1]) * (1 - self.beta_2)
        m_hat = (u_t_1 * m) / (1 - u_product_t_1) + ((1 - u_t) * g) / (1 - u_product_t)
        v_hat = v / (1 - beta_2_power)
        return -((m_hat * lr) / (xp.sqrt(v_hat) + self.epsilon)), (m, v)


class LionRule(Rule):
    """Lion: ``w -= lr * sign(b1 m + (1 - b1) g)``, then ``m = b2 m + (1 - b2) g``."""

    slot_names = ("momentum",)

    def __init__(self, beta_1: float = 0.9, beta_2: float = 0.99) -> None:
        # Keras's range: beta_1 = 0 would make every step sign(g), plain signSGD.
        self.beta_1 = C.number("beta_1", beta_1, 0, 1, open_low=True)
        self.beta_2 = _unit("beta_2", beta_2)

    def leaf(self, g: Any, slots: tuple, lr: float) -> tuple[Any, tuple]:
        b1, b2 = self.beta_1, self.beta_2
        delta = -(lr * xp.sign(slots[0] * b1 + g * (1.0 - b1)))
        return delta, (slots[0] * b2 + g * (1.0 - b2),)


__all__ = ["AdadeltaRule", "AdagradRule", "AdamRule", "AdamaxRule", "LionRule", "NadamRule", "RMSpropRule", "Rule",
           "SGDRule"]
