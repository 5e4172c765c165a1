"""A loss as a function of Variables, evaluated the ways the line-search optimizers and ``tg.minimize`` need.

>>> import tapegrad as tg
>>> w = tg.Variable(3.0)
>>> tg.optimizers.Problem(lambda: w ** 2, [w]).value_and_grad()
(9.0, [np.float32(6.0)])
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tapegrad import ops
from tapegrad._core.backend import NATIVE, library, namespace
from tapegrad._core.tensor import Operand, Variable
from tapegrad.tape import GradientTape

from .variables import assign_value, check_variable, on_device


class NoDescent(Exception):
    """Raised by a line-search optimizer that cannot lower the loss any further (the message says why).

    ``opt.minimize`` and ``tg.minimize`` catch it (the latter reports it as convergence); it
    reaches you only from an optimizer's internal ``_step``.

    >>> import tapegrad as tg
    >>> w = tg.Variable(0.0)
    >>> p = tg.optimizers.Problem(lambda: w ** 2, [w])
    >>> opt = tg.optimizers.Newton()
    >>> try:
    ...     opt._step(p, *p.value_and_grad())
    ... except tg.optimizers.NoDescent as e:
    ...     print(e)
    the gradient is exactly zero and the Hessian is positive definite: a minimum
    """


class Problem:
    """A loss as a function of Variables, evaluated the ways optimizers need.

    ``loss_fn`` takes no argument and computes the loss from ``variables``.

    Variables on a device (CuPy, ``array_api_strict``'s second device, ...) stay there: their
    gradients, ``get_flat`` and ``flatten`` are arrays of that library and device; only the loss
    comes back as a Python float.

    When the loss is a Dask array (the data are Dask, the Variables NumPy), the loss and all
    gradients of an evaluation are computed together, in one ``dask.compute`` (one pass over the
    chunks), and returned as NumPy. ``value()`` then computes the gradient with the loss, in the
    same pass, and keeps it: a line search's accepted point needs no second pass for its gradient.

    >>> import tapegrad as tg
    >>> w = tg.Variable(3.0)
    >>> p = tg.optimizers.Problem(lambda: w ** 2, [w])
    >>> loss, grads = p.value_and_grad()
    >>> loss, grads[0]
    (9.0, np.float32(6.0))
    """

    def __init__(self, loss_fn: Callable[[], Any], variables: Sequence[Variable]) -> None:
        self.loss_fn = loss_fn
        self.variables = list(variables)
        for v in self.variables:
            check_variable(v)
        self.nfev = 0
        self._zeros = [namespace(v._value).zeros_like(v._value) if on_device(v._value) else np.zeros_like(v._value)
                       for v in self.variables]
        self._checked = False
        self._lazy = False  # the loss was a Dask array: evaluations are passes over the data
        self._kept: tuple | None = None  # (values, loss, grads) of value()'s last lazy evaluation

    def value_and_grad(self) -> tuple[float, list]:
        """The loss as a float and its gradient for each variable (arrays; zeros where unconnected).

        >>> import tapegrad as tg
        >>> w, b = tg.Variable(2.0), tg.Variable(1.0)
        >>> loss, (dw, db) = tg.optimizers.Problem(lambda: w ** 2, [w, b]).value_and_grad()
        >>> loss, float(dw), float(db)       # b is not in the loss: its gradient is zero
        (4.0, 4.0, 0.0)
        """
        if self._kept is not None:
            kept, self._kept = self._kept, None
            if all(a is b for a, b in zip(kept[0], self.values())):
                return kept[1], kept[2]  # value() computed them at this point, in the same pass
        with GradientTape() as tape:
            loss = self.loss_fn()
        if not self._checked:
            self._check(loss)
        grads = tape.gradient(loss, self.variables)
        self.nfev += 1
        if not self._checked:
            self._check_grads(grads)
        if type(loss._value) in NATIVE:  # NumPy: the hot path, as it was
            return loss_to_float(loss), [z if g is None else g._value for g, z in zip(grads, self._zeros)]
        return self._results(loss, grads)

    def _results(self, loss: Any, grads: list) -> tuple[float, list]:
        """The loss as a float and the gradients as arrays (zeros where None); Dask ones computed in one pass."""
        arrays = [z if g is None else g._value for g, z in zip(grads, self._zeros)]
        if type(loss._value) in NATIVE:
            return loss_to_float(loss), arrays
        value, *arrays = computed([loss._value, *arrays])
        self._lazy = self._lazy or library(loss._value) == "dask"
        return _float(value), arrays

    def value(self) -> float:
        """The loss at the Variables' current values, without recording anything.

        >>> import tapegrad as tg
        >>> w = tg.Variable(3.0)
        >>> tg.optimizers.Problem(lambda: w ** 2, [w]).value()
        9.0
        """
        if self._lazy:
            # A pass over Dask data costs the same with the gradient as without: take both, keep the gradient.
            value, grads = Problem.value_and_grad(self)
            self._kept = (self.values(), value, grads)
            return value
        self.nfev += 1
        loss = self.loss_fn()
        return loss_to_float(loss) if isinstance(loss, Operand) else float(loss)

    def hessian(self) -> Any:
        """The Hessian of the loss over all variables, flattened and concatenated: a float64 (n, n) array.

        >>> import tapegrad as tg
        >>> x, y = tg.Variable(1.0), tg.Variable(2.0)
        >>> tg.optimizers.Problem(lambda: x ** 2 * y, [x, y]).hessian()
        array([[4., 2.],
               [2., 0.]])
        """
        with GradientTape() as outer:
            with GradientTape() as inner:
                loss = self.loss_fn()
            grads = inner.gradient(loss, self.variables, unconnected_gradients="zero")
            flat = ops.concat([ops.reshape(ops.cast(g, "float64"), [-1]) for g in grads], 0)
        self.nfev += 1
        rows = outer.jacobian(flat, self.variables, unconnected_gradients="zero")
        n = flat.shape[0]
        return np.concatenate([np.asarray(r, dtype=np.float64).reshape(n, -1)
                               for r in computed([r._value for r in rows])], axis=1)

    def values(self) -> list:
        """The Variables' current values (their arrays, not copies: optimizers never write into them).

        >>> import tapegrad as tg
        >>> w = tg.Variable([1.0, 2.0])
        >>> tg.optimizers.Problem(lambda: tg.reduce_sum(w), [w]).values()
        [array([1., 2.], dtype=float32)]
        """
        return [v._value for v in self.variables]

    def set_values(self, values: Sequence[Any]) -> None:
        """Put back values taken with ``values()`` (same shapes and dtypes; they are not converted).

        >>> import tapegrad as tg
        >>> w = tg.Variable(1.0)
        >>> p = tg.optimizers.Problem(lambda: w ** 2, [w])
        >>> saved = p.values(); _ = w.assign(5.0); p.set_values(saved); w.numpy()
        np.float32(1.0)
        """
        for v, x in zip(self.variables, values):
            assign_value(v, x)

    def get_flat(self) -> Any:
        """All variables' values as one float64 vector.

        >>> import numpy as np
        >>> import tapegrad as tg
        >>> a, b = tg.Variable(1.0), tg.Variable(np.array([2.0, 3.0]))
        >>> tg.optimizers.Problem(lambda: a + tg.reduce_sum(b), [a, b]).get_flat()
        array([1., 2., 3.])
        """
        return self.flatten([v._value for v in self.variables])

    def set_flat(self, x: Any) -> None:
        """Set the variables from one vector in ``get_flat``'s order, each cast back to its shape and dtype.

        >>> import numpy as np
        >>> import tapegrad as tg
        >>> a, b = tg.Variable(1.0), tg.Variable(np.array([2.0, 3.0]))
        >>> p = tg.optimizers.Problem(lambda: a + tg.reduce_sum(b), [a, b])
        >>> p.set_flat(np.array([7.0, 8.0, 9.0])); a.numpy(), b.numpy()
        (np.float32(7.0), array([8., 9.]))
        """
        i = 0
        for v in self.variables:
            old = v._value
            n = old.size
            if on_device(x):
                ns = namespace(x)
                assign_value(v, ns.astype(ns.reshape(x[i:i + n], tuple(old.shape)), old.dtype))
            else:
                new = x[i:i + n].reshape(old.shape).astype(old.dtype)
                assign_value(v, new if new.ndim else new[()])
            i += n

    def flatten(self, arrays: Sequence[Any]) -> Any:
        """Per-variable arrays (e.g. gradients) as one float64 vector, in the order of ``get_flat``.

        >>> import numpy as np
        >>> import tapegrad as tg
        >>> w = tg.Variable(1.0)
        >>> tg.optimizers.Problem(lambda: w ** 2, [w]).flatten([np.float32(2.0), np.ones((1, 2))])
        array([2., 1., 1.])
        """
        if any(on_device(a) for a in arrays):  # kept on their device, as one vector there
            ns = namespace(next(a for a in arrays if on_device(a)))
            return ns.concat([ns.reshape(ns.astype(ns.asarray(a), np.float64), (-1,)) for a in arrays])
        return np.concatenate([np.asarray(a, dtype=np.float64).reshape(-1) for a in arrays])

    def _check(self, loss: Any) -> None:
        if not isinstance(loss, Operand):
            raise TypeError(
                f"the loss function returned {type(loss).__name__} {loss!r}, not a tensor computed from the "
                "parameters. Compute it with tapegrad operations on the Variables it receives (x ** 2, "
                "tg.sin(x), np.exp(x) ...); float(), .numpy() or np.asarray() cut the gradient")
        v = loss._value
        if v.dtype.kind != "f":
            raise TypeError(f"the loss must be a real floating-point scalar; got dtype {loss.dtype.name}")
        if v.size != 1:
            raise ValueError(f"the loss must be a scalar, but it has shape {tuple(v.shape)}; reduce it, e.g. "
                             "tg.reduce_sum(...) or tg.reduce_mean(...)")

    def _check_grads(self, grads: list) -> None:
        self._checked = True
        if all(g is None for g in grads):
            names = ", ".join(v.name for v in self.variables)
            raise ValueError(
                f"the loss does not depend on the parameters ({names}): every gradient is None. Compute it from "
                "the Variables the function receives, with tapegrad operations; a value taken out with float(), "
                ".numpy() or np.asarray() is a constant to the tape")


def computed(values: list) -> list:
    """``values`` with their Dask arrays computed, all in one ``dask.compute``: one pass over the chunks they
    share (the data), however many results come from them. Other values are returned as they are.

    >>> import numpy as np
    >>> from tapegrad.optimizers.problem import computed
    >>> computed([np.float64(1.0), np.ones(2)])
    [np.float64(1.0), array([1., 1.])]
    """
    if not any(library(v) == "dask" for v in values):
        return values
    import dask  # only ever reached with Dask arrays in hand

    return list(dask.compute(*values))


def loss_to_float(loss: Any) -> float:
    """A scalar loss tensor (any shape of one element) as a Python float."""
    return _float(loss._value)


def _float(v: Any) -> float:
    """An array of one element, of any library, as a Python float: the one value copied off a device."""
    if v.ndim == 0:
        return float(v)
    return float(namespace(v).reshape(v, ())) if on_device(v) else float(v.reshape(()))


__all__ = ["NoDescent", "Problem", "computed"]
