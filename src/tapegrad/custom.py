"""custom_gradient: a function with a gradient of its own, as in TensorFlow."""
from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from tapegrad import ops
from tapegrad._core.record import Primitive, TapeState, apply
from tapegrad._core.state import also_recording
from tapegrad._core.tensor import Operand, Variable


def custom_gradient(f: Callable[..., Any]) -> Callable[..., Any]:
    """Give ``f`` its own gradient: ``f`` returns ``(y, grad_fn)``; ``grad_fn(upstream)`` the input gradients.

    If ``f`` reads trainable Variables, ``grad_fn`` must accept ``variables=`` and return
    ``(input_grads, variable_grads)``, as in TensorFlow. Write ``grad_fn`` with tapegrad
    ops and it can be differentiated again.

    >>> import tapegrad as tg
    >>> @tg.custom_gradient
    ... def clipped_identity(x):
    ...     def grad(upstream):
    ...         return tg.clip_by_value(upstream, -1.0, 1.0)
    ...     return tg.identity(x), grad
    >>> x = tg.constant(3.0)
    >>> with tg.GradientTape() as tape:
    ...     tape.watch(x)
    ...     y = clipped_identity(x) * 5.0
    >>> tape.gradient(y, x).numpy()
    np.float32(1.0)
    """
    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        inputs = tuple(ops.identity(a) if isinstance(a, Variable) else ops.operand(a) for a in args)
        # f runs on the user's tapes, as in TensorFlow: what grad_fn uses of f's intermediates is then
        # recorded, so an outer tape differentiates grad_fn itself (second derivatives). One more tape,
        # private, learns which Variables f reads.
        collector = TapeState(persistent=False, watch_accessed_variables=True)
        with also_recording(collector):
            result, grad_fn = f(*inputs, **kwargs)
        if not isinstance(result, Operand):
            if isinstance(result, (list, tuple)):
                raise NotImplementedError("custom_gradient: f must return one tensor (and grad_fn); several "
                                          "outputs are not supported yet")
            result = ops.operand(result)
        variables = tuple(v for v in collector.variables if v._trainable)
        if variables and "variables" not in inspect.signature(grad_fn).parameters:
            raise TypeError(f"custom_gradient: {f.__name__} reads Variables "
                            f"({', '.join(v.name for v in variables)}), so its grad_fn must accept "
                            "`variables=None` and return (input_grads, variable_grads)")
        # The op passes f's result through (its first input, given no gradient), so its forward is a
        # pure function of its inputs: tg.function can replay it.
        prim = Primitive(f"custom_gradient:{f.__name__}", lambda r, *_: r,
                         _GradFnRules(grad_fn, len(inputs), variables, f.__name__), register=False)
        return apply(prim, (result,) + inputs + variables)

    return wrapper


class _GradFnRules:
    """The rules of a custom_gradient op: one call of the user's grad_fn serves every input."""

    __slots__ = ("grad_fn", "n", "variables", "name", "last")

    def __init__(self, grad_fn: Callable[..., Any], n: int, variables: tuple, name: str) -> None:
        self.grad_fn, self.n, self.variables, self.name = grad_fn, n, variables, name
        self.last: tuple = (None, [])

    def _all(self, g: Any) -> list:
        if self.last[0] is not g:
            if self.variables:
                grads, var_grads = self.grad_fn(g, variables=list(self.variables))
            else:
                grads, var_grads = self.grad_fn(g), []
            grads = list(grads) if isinstance(grads, (list, tuple)) else [grads]
            if len(grads) != self.n:
                raise ValueError(f"custom_gradient: grad_fn of {self.name} returned {len(grads)} gradients for "
                                 f"{self.n} inputs; return one per input (None for no gradient)")
            self.last = (g, [None if x is None else ops.operand(x) for x in grads + list(var_grads)])
        return self.last[1]

    def __getitem__(self, k: int) -> Callable[..., Any] | None:
        if k == 0:  # f's result, passed through
            return None
        return lambda g, ans, *xs: self._all(g)[k - 1]
