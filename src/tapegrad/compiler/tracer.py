"""The tracer behind ``tg.function``: it writes down what one eager run did, then turns the record
into one straight-line Python function of NumPy calls."""
from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from tapegrad._core.backend import NATIVE, library, xp
from tapegrad._core.frames import user_line
from tapegrad._core.record import READ
from tapegrad._core.tensor import Operand, Tensor, Variable, fit, to_array

_new = object.__new__
# Forwards that are Python operators are written as operators: no call at all.
_INFIX = {operator.add: "+", operator.sub: "-", operator.mul: "*", operator.truediv: "/"}


# ---- tracing --------------------------------------------------------------------------------------

class Tracer:
    """Writes down what one eager run did, then turns it into straight-line code."""

    def __init__(self) -> None:
        self.sym: dict[int, str] = {}   # id(tensor) -> the name its value has in the generated code
        self.keep: list[Any] = []       # every tensor seen: their ids must stay unique
        self.steps: list[tuple] = []    # ("op", name, prim, args, params) | ("read", name, var) | ("assign", ...)
        self.params: list[str] = []     # the replay's parameters, in feed order
        self.var_names: dict[int, str] = {}
        self.names: dict[str, Any] = {}  # the generated code's globals: forwards, constants, Variables
        self.reason: str | None = None
        self.saved: dict[int, tuple] = {}  # Variables assigned: their values before the trace
        self.count = 0
        self.parts: tuple | None = None  # (lines, raw leaves, namespace) of the last compile, see compile

    def fresh(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def constant(self, value: Any) -> str:
        if isinstance(value, xp.ndarray) and value.ndim == 0:
            value = value[()]  # a NumPy scalar: same results, and NumPy's fast scalar arithmetic
        name = self.fresh("c")
        self.names[name] = value
        return name

    def fail(self, why: str) -> None:
        if self.reason is None:
            self.reason = f"{why} ({user_line()})"

    # -- what the function receives ----------------------------------------------------------------
    def inputs(self, args: tuple, kwargs: dict) -> tuple:
        return self._input(args), {k: self._input(kwargs[k]) for k in sorted(kwargs)}

    def _input(self, x: Any) -> Any:
        t = type(x)
        if t is Tensor or isinstance(x, (xp.ndarray, xp.generic)) or (isinstance(x, Operand) and t is not Variable):
            # A fresh tensor per argument: f(x, x) must not tie the two arguments together in the code.
            v = _new(Tensor)
            v._value = to_array(x) if t is not Tensor else x._value
            name = self.fresh("a")
            self.params.append(name)
            self.sym[id(v)] = name
            self.keep.append(v)
            return v
        if t is Variable:
            if id(x) not in self.var_names:
                name = self.fresh("v")
                self.params.append(name)
                self.var_names[id(x)] = name
                self.keep.append(x)
            else:
                self.params.append(self.fresh("_"))  # the same Variable again: its feed slot is not read
            return x
        if t is list:
            return [self._input(i) for i in x]
        if t is tuple:
            return tuple(self._input(i) for i in x)
        if isinstance(x, tuple) and hasattr(x, "_fields"):
            return t(*[self._input(i) for i in x])
        if t is dict:
            return {k: self._input(v) for k, v in x.items()}
        return x

    def variable(self, var: Variable) -> str:
        name = self.var_names.get(id(var))
        if name is None:  # captured from outside: the code names the Variable object itself
            name = self.fresh("V")
            self.names[name] = var
            self.var_names[id(var)] = name
            self.keep.append(var)
        return name

    def value_of(self, x: Any) -> str:
        name = self.sym.get(id(x))
        if name is not None:
            return name
        return self.constant(x._value)

    # -- what the eager run reports ----------------------------------------------------------------
    def on_op(self, prim: Any, inputs: tuple, params: dict, out: Any) -> None:
        self.keep.append(out)
        if type(out._value) not in NATIVE and self.reason is None:
            self.foreign(out._value)
        if prim is READ:
            name = self.fresh("t")
            self.steps.append(("read", name, self.variable(inputs[0])))
            self.sym[id(out)] = name
            return
        if not any(id(x) in self.sym for x in inputs):
            return  # made of constants only: the output is a constant too, folded as it is
        self.keep.extend(inputs)
        alias = self.passed_through(prim, inputs, out)
        if alias is not None:
            self.sym[id(out)] = self.value_of(alias)
            return
        args = [self.value_of(x) for x in inputs]
        name = self.fresh("t")
        self.steps.append(("op", name, prim, args, params))
        self.sym[id(out)] = name

    def passed_through(self, prim: Any, inputs: tuple, out: Any) -> Any:
        """The input an op returns unchanged, if any: identity, or x * 1 (the seed cotangent times a rule)."""
        for x in inputs:
            if out._value is x._value:
                return x
        if prim.forward is operator.mul:
            a, b = inputs
            for c, x in ((a, b), (b, a)):
                v, o = c._value, out._value
                if (id(c) not in self.sym and id(x) in self.sym and v.size == 1 and v.ndim <= x._value.ndim
                        and o.shape == x._value.shape and o.dtype == x._value.dtype and v == 1):
                    return x  # 1 * x == x exactly, NaN and -0.0 included
        return None

    def tracks(self, x: Any) -> bool:
        """Whether ``x``'s value may differ from call to call (an input, a Variable, or made from one)."""
        return type(x) is Variable or id(x) in self.sym

    def escape(self, x: Any) -> None:
        if self.tracks(x):
            self.fail("a traced tensor's value is used in Python (bool(), float(), .numpy(), an index, ...)")

    def foreign(self, value: Any) -> None:
        """An op gave another library's array: the generated code calls NumPy's kernels, so it stays eager."""
        lib = library(value)
        if lib != "numpy":
            lazily = " (eager code builds the same lazy graph)" if lib == "dask" else ""
            self.fail(f"it computes on {lib} arrays, and compiled code is NumPy's only: calls run eagerly{lazily}")

    def impure(self, what: str) -> None:
        self.fail(what)

    def assigned(self, var: Variable, how: str, value: Any, fitted: bool) -> None:
        if id(var) not in self.saved:
            self.saved[id(var)] = (var, var._value)
        cur = var._value
        if type(value) is Variable:
            arg, cast = self.variable(value) + "._value", value._value.dtype != cur.dtype
        elif isinstance(value, Operand):
            arg, cast = self.value_of(value), value._value.dtype != cur.dtype
        else:
            arg, cast = self.constant(to_array(value, cur.dtype)), False
        self.steps.append(("assign", self.variable(var), how, arg, cur.dtype if cast else None,
                           (cur.shape, var.name) if fitted else None))

    def undo_assignments(self) -> None:
        for var, value in self.saved.values():
            var._value = value

    # -- code ------------------------------------------------------------------------------------------
    def compile(self, result: Any, name: str) -> tuple[Callable[..., Any] | None, str, str | None, tuple]:
        """(replay, its source, why it cannot be replayed or None, the Variables it assigns)."""
        if self.reason is not None:
            return None, "", self.reason, ()
        out_expr = self.output(result)
        # The result's leaves as expressions of their arrays (not Tensors): what code built around the body, such
        # as tg.minimize's fused steps, reads. They name only values the outputs name too, so the body has them.
        leaves = tuple(self.raw(x) for x in _leaves(result))
        lines = self.live_lines(out_expr)
        params = ", ".join(self.params)
        source = "\n".join([f"def replay({params}):", *lines, f"    return {out_expr}", ""])
        self.names.update(W=_wrap, fit=fit)
        namespace = dict(self.names)
        exec(compile(source, f"<tg.function {name}>", "exec"), namespace)  # our generated code only
        self.parts = (tuple(lines), leaves, namespace)
        return namespace["replay"], source, None, tuple(var for var, _ in self.saved.values())

    def raw(self, x: Any) -> str:
        """An expression of a result leaf's array (a tensor's value, not the tensor): None stays None."""
        if x is None:
            return "None"
        if type(x) is Variable:
            return self.variable(x) + "._value"
        if isinstance(x, Operand):
            name = self.sym.get(id(x))
            return name if name is not None else self.constant_object(x._value)
        return self.constant_object(x)

    def output(self, x: Any) -> str:
        t = type(x)
        if isinstance(x, Operand):
            if t is Variable:
                return self.variable(x)
            name = self.sym.get(id(x))
            return f"W({name})" if name is not None else self.constant_object(x)
        if t is list:
            return "[" + ", ".join(self.output(i) for i in x) + "]"
        if t is tuple:
            return "(" + "".join(self.output(i) + ", " for i in x) + ")"
        if isinstance(x, tuple) and hasattr(x, "_fields"):
            return self.constant_object(t) + "(" + ", ".join(self.output(i) for i in x) + ")"
        if t is dict:
            return "{" + ", ".join(f"{self.constant_object(k)}: {self.output(v)}" for k, v in x.items()) + "}"
        return self.constant_object(x)

    def constant_object(self, obj: Any) -> str:
        name = self.fresh("k")
        self.names[name] = obj
        return name

    def live_lines(self, out_expr: str) -> list[str]:
        """The steps as code, backwards from the outputs and assignments: unused values are never computed."""
        needed = set(_identifiers(out_expr))
        lines: list[str] = []
        for step in reversed(self.steps):
            kind = step[0]
            if kind == "assign":
                _, var, how, arg, cast, fitting = step
                value = f"{arg}.astype({self.constant_object(cast)})" if cast is not None else arg
                expr = value if how == "assign" else f"{var}._value {'+' if how == 'assign_add' else '-'} {value}"
                if fitting is not None:
                    expr = f"fit({expr}, {self.constant_object(fitting[0])}, " \
                           f"{self.constant_object(how)}, {self.constant_object(fitting[1])})"
                lines.append(f"    {var}._value = {expr}")
                needed.update(_identifiers(arg))
                continue
            name = step[1]
            if name not in needed:
                continue
            if kind == "read":
                lines.append(f"    {name} = {step[2]}._value")
                continue
            _, _, prim, args, params = step
            lines.append(f"    {name} = {self.call(prim, args, params)}")
            needed.update(args)
        lines.reverse()
        return lines

    def call(self, prim: Any, args: list, params: dict | None) -> str:
        fwd = prim.forward
        if not params and len(args) == 2 and fwd in _INFIX:
            return f"{args[0]} {_INFIX[fwd]} {args[1]}"
        if not params and len(args) == 1 and fwd is operator.neg:
            return f"-{args[0]}"
        f = self.fresh(prim.name + "_") if prim.name.isidentifier() else self.fresh("f")
        self.names[f] = fwd
        if not params:
            return f"{f}({', '.join(args)})"
        keywords = ", ".join(f"{k}={self.constant_object(v)}" for k, v in params.items() if k.isidentifier())
        if len(params) != keywords.count("="):
            return f"{f}({', '.join(args)}, **{self.constant_object(dict(params))})"
        return f"{f}({', '.join(args)}, {keywords})"


def _leaves(x: Any) -> list:
    """The leaves of a result, in the order ``output`` writes them (None is a leaf)."""
    t = type(x)
    if t is list or t is tuple or (isinstance(x, tuple) and hasattr(x, "_fields")):
        return [leaf for i in x for leaf in _leaves(i)]
    if t is dict:
        return [leaf for v in x.values() for leaf in _leaves(v)]
    return [x]


def _identifiers(expr: str) -> list[str]:
    out, word = [], ""
    for ch in expr + " ":
        if ch.isalnum() or ch == "_":
            word += ch
        else:
            if word:
                out.append(word)
            word = ""
    return out


def _wrap(value: Any) -> Tensor:
    t = _new(Tensor)
    t._value = value
    return t
