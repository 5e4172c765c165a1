"""The reports of tg.debugging: what was non-finite, where, from which inputs, and the likely fix."""
from __future__ import annotations

import linecache
from typing import Any

from tapegrad._core.backend import xp
from tapegrad._core.dtypes import of_numpy
from tapegrad._core.errors import InvalidArgumentError
from tapegrad._core.frames import user_frame
from tapegrad._core.record import READ, Primitive
from tapegrad._core.tensor import Operand, Tensor, Variable
from tapegrad.explain.names import names_in

_SHOW = 4  # elements named in a report


class NumericsError(InvalidArgumentError):
    """An op or a gradient rule produced inf or NaN while numerics were checked.

    ``op`` is the op's name, ``direction`` "forward" or "backward", ``cause`` a short key
    (log_of_zero, sqrt_of_negative, overflow, zero_division, came_in, masked_branch, ...),
    ``filename``/``lineno`` the user's line (None when unknown).

    >>> import tapegrad as tg
    >>> issubclass(tg.debugging.NumericsError, tg.InvalidArgumentError)
    True
    """

    def __init__(self, message: str, op: str = "", direction: str = "forward", cause: str = "",
                 filename: str | None = None, lineno: int | None = None) -> None:
        super().__init__(message)
        self.op, self.direction, self.cause = op, direction, cause
        self.filename, self.lineno = filename, lineno



# ---- reports ------------------------------------------------------------------------------------------
def _line_text(filename: str, lineno: int) -> str:
    code = linecache.getline(filename, lineno).strip()
    return f"{filename}, line {lineno}" + (f":\n      {code}" if code else "")


def _num(v: Any) -> str:
    return f"{v.item():.6g}" if hasattr(v, "item") else f"{v:.6g}"


def _bad(v: Any) -> Any:
    """Indices of the non-finite elements (a tuple of index arrays)."""
    return xp.nonzero(~xp.isfinite(v)) if v.ndim else ()


def _count(v: Any) -> str:
    """What is wrong in ``v``: "NaN", "-inf", "NaN and +inf"..."""
    if v.dtype.kind == "c":
        return "NaN" if xp.isnan(v).any() else "inf"
    found = (("NaN", xp.isnan(v).any()), ("+inf", xp.isposinf(v).any()), ("-inf", xp.isneginf(v).any()))
    return " and ".join(label for label, n in found if n)


def _positions(bad: Any, limit: int = _SHOW) -> list[tuple]:
    if not bad:
        return [()]
    return list(zip(*(b[:limit] for b in bad)))


def _at(v: Any, pos: tuple, shape: tuple) -> str:
    """``v``'s element at ``pos`` of a result of ``shape`` (v broadcast to it); '' if v does not broadcast."""
    try:
        return _num(xp.broadcast_to(v, shape)[pos]) if shape else _num(v.reshape(()))
    except ValueError:
        return ""


def _elements(v: Any) -> str:
    bad = _bad(v)
    pos = _positions(bad)
    n = int(bad[0].size) if bad else 1
    shown = ", ".join(f"[{', '.join(map(str, p))}] {_num(v[p])}" if p else _num(v) for p in pos)
    more = f" (and {n - len(pos)} more)" if n > len(pos) else ""
    return f"{n} of {v.size} elements: {shown}{more}"


def _describe_inputs(inputs: tuple, names: dict, out_shape: tuple, pos: list[tuple], prim: Primitive) -> list[str]:
    lines = []
    for j, x in enumerate(inputs):
        if not isinstance(x, Operand):
            continue
        v = x._value
        label = names.get(id(x)) or (f"Variable {x.name!r}" if isinstance(x, Variable) else f"input {j}")
        vals = [_at(v, p, out_shape) for p in pos]
        if v.size == 1:
            lines.append(f"{label} = {_num(v.reshape(()))}")
        elif all(vals):
            lines.append(f"{label} ({of_numpy(v.dtype).name}, shape {tuple(v.shape)}) there: {', '.join(vals)}")
        else:
            lines.append(f"{label} ({of_numpy(v.dtype).name}, shape {tuple(v.shape)})")
    return lines


def _nonfinite_in(x: Any, pos: list[tuple], shape: tuple) -> bool:
    v = x._value
    if v.dtype.kind not in "fc":
        return False
    try:
        b = xp.broadcast_to(v, shape) if shape else v.reshape(())
        return any(not xp.isfinite(b[p]) for p in pos)
    except ValueError:
        return not bool(xp.isfinite(v).all())


_CAME_IN = ("the {kind} came in: {who} already held it, so {op} is not its cause. It was computed before "
            "checking began, or came from data (tg.constant, a NumPy array) or a Variable assigned earlier "
            "(an optimizer step with a NaN gradient, say). Check where that value was made.")

_SAFE = ("If you mask these elements afterwards (tg.where(x > 0, {f}, 0)), the value is fine but its gradient is "
         "NaN there; give {op} a safe input where it is masked: tg.where(x > 0, {g}, 0).")


def _forward_cause(prim: Primitive, inputs: tuple, out: Any, pos: list[tuple]) -> tuple[str, str]:
    """(cause key, likely fix) for a forward op whose inputs were finite."""
    name = prim.name
    vals = [x._value for x in inputs if isinstance(x, Operand)]
    shape = tuple(out.shape)

    def at(j: int) -> list[float]:
        v = vals[j]
        try:
            b = xp.broadcast_to(v, shape) if shape else v.reshape(())
            return [float(xp.real(b[p])) for p in pos]
        except (ValueError, IndexError):
            return []

    x = at(0) if vals else []
    kind = "NaN" if xp.isnan(out).any() else "inf"
    big = f"{float(xp.finfo(out.dtype).max):.3g}" if out.dtype.kind in "fc" else "?"
    overflow = ("overflow", f"the result is beyond the largest {of_numpy(out.dtype).name} ({big}). Rescale the "
                "inputs, compute in float64, or use a stable form (tg.reduce_logsumexp, tg.nn.softplus, "
                "subtracting the max before exp).")
    if name in ("log", "log1p"):
        edge = -1.0 if name == "log1p" else 0.0
        what = "log1p(x) at x = -1" if name == "log1p" else "log(0)"
        if any(v == edge for v in x):
            safe = _SAFE.format(f=f"tg.math.{name}(x)", op=name, g=f"tg.math.{name}(tg.where(x > 0, x, 1.0))")
            return "log_of_zero", (f"{what} is -inf. Keep the input away from it: tg.math.{name}(x + eps), or "
                                   f"tg.math.{name}(tg.maximum(x, eps)). " + safe)
        return "log_of_negative", (f"{name} of a number below {edge:g} is NaN. Keep the input in the domain "
                                   f"(tg.maximum(x, eps)) or take {name} of tg.abs(x).")
    if name in ("sqrt", "rsqrt"):
        if any(v < 0 for v in x):
            return "sqrt_of_negative", (f"{name} of a negative number is NaN. Clamp first, tg.{name}(tg.maximum(x, "
                                        "0.0)), or take it of tg.abs(x) or x * x + eps.")
        return "zero_division", "rsqrt(0) is 1/sqrt(0) = inf. Add a small eps: tg.math.rsqrt(x + eps)."
    if name in ("divide", "reciprocal", "floormod"):
        den = at(1) if name != "reciprocal" else x
        num = x if name != "reciprocal" else [1.0] * len(x)
        if any(d == 0 for d in den):
            if any(d == 0 and n == 0 for n, d in zip(num, den)):
                return "zero_division", ("0/0 is NaN. Use tg.math.divide_no_nan(x, y) (0 where y is 0), or add a "
                                         "small eps to the denominator.")
            return "zero_division", ("division by zero gives inf. Use tg.math.divide_no_nan(x, y), or keep the "
                                     "denominator away from 0 (y + eps).")
        return overflow
    if name == "pow":
        e = at(1)
        if any(b == 0 and p < 0 for b, p in zip(x, e)):
            return "zero_division", "0 to a negative power is inf. Keep the base away from 0 (x + eps)."
        if any(b < 0 and p != int(p) for b, p in zip(x, e)):
            return "pow_of_negative", ("a negative number to a fractional power is NaN. Use tg.abs(x) ** p, or "
                                       "clamp the base: tg.maximum(x, 0.0) ** p.")
        return overflow
    if name in ("acos", "asin"):
        return "out_of_domain", f"{name} is defined on [-1, 1] only. Clip first: tg.clip_by_value(x, -1.0, 1.0)."
    if name in ("exp", "expm1", "sinh", "cosh", "softplus"):
        return "overflow", (f"{name} overflows {of_numpy(out.dtype).name} for inputs above about "
                            f"{float(xp.log(xp.finfo(out.dtype).max)):.4g}. Use a stable form "
                            "(tg.reduce_logsumexp, tg.nn.softplus, tg.nn.log_softmax; subtract the max before exp) "
                            "or clip the input.")
    if kind == "NaN":
        return "nan", (f"{name} turned finite inputs into NaN (inf - inf, 0 * inf or 0/0 inside it, after an "
                       "overflow). Look for an intermediate value that overflows.")
    return overflow


def _forward_error(prim: Primitive, inputs: tuple, params: dict, out: Tensor, frame: Any) -> NumericsError:
    v = out._value
    bad = _bad(v)
    pos = _positions(bad)
    shape = tuple(v.shape)
    names = names_in(frame)
    name = "reading a Variable" if prim is READ else prim.name
    if prim is READ:
        var = inputs[0]
        label = names.get(id(var)) or f"Variable {var.name!r}"
        cause, fix = "came_in", _CAME_IN.format(kind=_kind(v), who=label, op="reading it")
    else:
        came = [j for j, x in enumerate(inputs) if isinstance(x, Operand) and _nonfinite_in(x, pos, shape)]
        if came:
            x = inputs[came[0]]
            who = names.get(id(x)) or f"input {came[0]} of {name}"
            cause, fix = "came_in", _CAME_IN.format(kind=_kind(v), who=who, op=name)
        else:
            cause, fix = _forward_cause(prim, inputs, v, pos)
    text = [f"{name} produced {_count(v)} in {_elements(v)}"]
    filename = lineno = None
    if frame is not None:
        filename, lineno = frame.f_code.co_filename, frame.f_lineno
        text.append(f"  at {_line_text(filename, lineno)}")
    if prim is not READ:
        text += [f"  {s}" for s in _describe_inputs(inputs, names, shape, pos, prim)]
    text.append(f"Likely cause: {fix}")
    return NumericsError("\n".join(text), op=prim.name, direction="forward", cause=cause, filename=filename,
                         lineno=lineno)


def _kind(v: Any) -> str:
    return "NaN" if xp.isnan(v).any() else "inf"


# ---- backward reports ---------------------------------------------------------------------------------
def _selects(entries: list, i: int, out: Any) -> tuple[Any, int, Any] | None:
    """(the where entry, branch 1 or 2) of a later ``where`` that took ``out`` as a branch."""
    for j in range(i + 1, len(entries)):
        e = entries[j]
        if e is not None and e[0].name == "where":
            for b in (1, 2):
                if e[1][b] is out:
                    return e, b, j
    return None


def _backward_error(checker: Any, entries: list, i: int, k: int, g: Any, gx: Any) -> NumericsError:
    prim, inputs, params, out = entries[i]
    x = inputs[k]
    v = gx._value
    bad = _bad(v)
    lead = v.ndim - x._value.ndim  # jacobian's batch axes
    pos = _positions(bad)
    xpos = [p[lead:] for p in pos]
    gv = g._value
    same = gv.shape == v.shape
    names = names_in(user_frame())
    op = prim.name
    read = next((e[1][0] for e in entries if e is not None and e[0] is READ and e[3] is x), None)
    xname = names.get(id(x)) or (names.get(id(read)) if read is not None else None) or f"its input {k}"
    line = checker.line_of(out)
    filename, lineno = line if line else (None, None)
    kind = _kind(v)
    text = [f"The gradient has {kind}: the rule of {op} sent {_count(v)} to {xname} in {_elements(v)}"]
    text.append(f"  {op} was recorded at {_line_text(filename, lineno)}" if line else
                f"  (the line that recorded {op} is not known: checking was off when it ran; enable it before "
                "the tape's `with` block to have it)")
    xs = [_at(x._value, p, tuple(x._value.shape)) for p in xpos]
    text.append(f"  {xname} there: {', '.join(xs)}")
    gs = [_num(gv[p]) for p in pos] if same else []
    if gs:
        text.append(f"  the cotangent arriving at {op}'s output there: {', '.join(gs)}")
    g_bad = (not all(xp.isfinite(gv[p]) for p in pos)) if same else not bool(xp.isfinite(gv).all())
    x_bad = any(s and s.lstrip("-") in ("nan", "inf") for s in xs)
    zero = same and all(gv[p] == 0 for p in pos)
    if g_bad:
        cause, fix = "came_in", (f"the {kind} came in: the cotangent arriving at {op}'s output already held it "
                                 "(output_gradients given to gradient(), or cotangents that overflowed when "
                                 "summed), so this rule is not its cause.")
    elif x_bad:
        cause, fix = "came_in", (f"the {kind} came in: {xname} already held it in the forward pass; check the "
                                 "forward pass (enable checking before the tape's `with` block).")
    elif zero and (sel := _selects(entries, i, out)) is not None:
        e, b, j = sel
        wline = checker.line_of(e[3])
        cause = "masked_branch"
        at = f" (at {wline[0]}, line {wline[1]})" if wline else ""
        form = _CALLS.get(op, "tg.math.log({})")
        fix = (f"the {kind} came from the branch `where` did not select{at}: where passes a zero cotangent to "
               f"{op}'s result where its condition is {'False' if b == 1 else 'True'}, and the derivative of {op} "
               f"at those inputs is infinite, so 0 * inf = NaN. Masking the value does not mask the gradient: give "
               f"{op} a safe input where it is not selected: tg.where(x > 0, "
               f"{form.format('tg.where(x > 0, x, 1.0)')}, 0.0) instead of tg.where(x > 0, {form.format('x')}, 0.0).")
    elif zero:
        cause, fix = "zero_times_inf", (f"the cotangent is 0 there but the derivative of {op} at those inputs is "
                                        "infinite: 0 * inf = NaN. Something after it multiplies its result by 0 or "
                                        f"masks it, which does not protect the gradient: give {op} a safe input "
                                        "there.")
    else:
        cause, fix = "infinite_derivative", (f"the derivative of {op} is infinite or undefined at these inputs "
                                             f"({_derivative_hint(op)}), or the product with the cotangent "
                                             "overflowed. Keep the input away from that point (x + eps, "
                                             "tg.maximum(x, eps)) or use a smooth alternative.")
    text.append(f"Likely cause: {fix}")
    return NumericsError("\n".join(text), op=op, direction="backward", cause=cause, filename=filename,
                         lineno=lineno)


_CALLS = {"log": "tg.math.log({})", "log1p": "tg.math.log1p({})", "sqrt": "tg.sqrt({})", "rsqrt": "tg.math.rsqrt({})",
          "pow": "{} ** p", "reciprocal": "tg.math.reciprocal({})", "divide": "1.0 / {}"}


def _derivative_hint(op: str) -> str:
    return {"log": "d log(x)/dx = 1/x is infinite at 0", "sqrt": "d sqrt(x)/dx = 1/(2 sqrt(x)) is infinite at 0",
            "pow": "d x**p/dx = p x**(p-1) is infinite at x = 0 for p < 1",
            "divide": "d (x/y)/dy = -x/y**2 is infinite at y = 0", "reciprocal": "d (1/x)/dx is infinite at 0",
            "acos": "infinite at -1 and 1", "asin": "infinite at -1 and 1",
            "abs": "undefined at 0", "norm": "d |x| is undefined at 0"}.get(op, "check its derivative")
