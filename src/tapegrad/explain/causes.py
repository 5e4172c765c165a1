"""Why a gradient is what it is, above all why it is None: ``tape.explain(target, sources)``.

``explain`` reads what the tape recorded (entries, watched ids, and the ops that cut a
gradient) and names, for each source, the cause of a ``None``: never watched,
integer dtype, a trainable=False Variable, a Variable replaced by a Tensor, computed
outside the tape, cut by stop_gradient or stop_recording, or a gradient taken outside
the outer tape.
"""
from __future__ import annotations

import ast
import inspect
import linecache
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from tapegrad._core import nest
from tapegrad._core.backward import backward
from tapegrad._core.dtypes import of_numpy
from tapegrad._core.record import READ, TapeState
from tapegrad._core.state import gradient_origin, isolated
from tapegrad._core.tensor import Operand, Variable, to_array, wrap

from .names import caller, describe, fmt, names_in

__all__ = ["Explanation", "Reason", "explain"]


@dataclass(frozen=True)
class Reason:
    """Why one source's gradient is what it is.

    ``cause`` is one of: connected, integer_dtype, tape_used, no_gradient, not_trainable,
    not_watched_accessed, variable_replaced, not_watched, integer_target,
    gradient_outside_tape, stop_gradient, not_differentiable, stop_recording,
    outside_tape, unused.
    """

    source: str
    cause: str
    message: str
    gradient: Any = None

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"


class Explanation:
    """The reasons for each source, in the order of ``nest.flatten(sources)``; prints as a report.

    >>> import tapegrad as tg
    >>> x = tg.Variable(3.0)
    >>> with tg.GradientTape() as tape:
    ...     y = x * x
    >>> tape.explain(y, x).causes
    ['connected']
    """

    def __init__(self, target: str, reasons: list[Reason]) -> None:
        self.target = target
        self.reasons = reasons

    @property
    def causes(self) -> list[str]:
        return [r.cause for r in self.reasons]

    def __iter__(self) -> Iterator[Reason]:
        return iter(self.reasons)

    def __len__(self) -> int:
        return len(self.reasons)

    def __getitem__(self, i: int) -> Reason:
        return self.reasons[i]

    def __str__(self) -> str:
        lines = [f"Gradients of {self.target}:"]
        for r in self.reasons:
            lines.append(textwrap.fill(str(r), 100, initial_indent="  ", subsequent_indent="      "))
        return "\n".join(lines)

    __repr__ = __str__



# ---- explain ------------------------------------------------------------------------------------
_NOT_RECORDED = ("The computation connecting {s} to the target did not happen while this tape was recording: it "
                 "ran before the tape started or after it stopped, or a value on the way went through NumPy "
                 "(t.numpy(), np.asarray(t)) and came back as a new constant. Compute the whole path from {s} "
                 "to the target with tapegrad operations inside the tape's `with` block.")


def explain(tape: Any, target: Any, sources: Any) -> Explanation:
    """Say, for each source, why ``tape.gradient(target, sources)`` is what it is, above all why it is None.

    Does not use up the tape: call it before or instead of ``gradient``.

    >>> import tapegrad as tg
    >>> x = tg.constant(3.0)                    # a constant, never watched
    >>> with tg.GradientTape() as tape:
    ...     y = x * x
    >>> print(tape.explain(y, x))
    Gradients of y:
      x: None, because x is a constant Tensor that this tape never watched, so the tape has no record
          of it. Call tape.watch(x) inside the `with` block before using it, or make it a tg.Variable ...
    """
    frame = caller()
    names = names_in(frame)
    targets = [t if isinstance(t, Operand) else wrap(to_array(t)) for t in nest.flatten(target)]
    flat = nest.flatten(sources)
    for s in flat:
        if not isinstance(s, Operand):
            raise TypeError(f"explain(): sources must be Tensors or Variables, got {type(s).__name__}")
    target_name = ", ".join(describe(t, names, "the target") for t in targets)
    reasons = [_explain_one(tape, targets, s, describe(s, names, f"source {i}"), frame)
               for i, s in enumerate(flat)]
    return Explanation(target_name, reasons)


def _explain_one(tape: Any, targets: list, s: Any, name: str, frame: Any) -> Reason:
    def why(cause: str, message: str) -> Reason:
        return Reason(name, cause, "None, because " + message)

    if s._value.dtype.kind not in "fc":
        return why("integer_dtype", f"{name} has dtype {of_numpy(s._value.dtype).name}; only floating-point tensors "
                   "have gradients (tapes never watch integers). Create it as a float, e.g. tg.Variable(3.0) rather "
                   "than tg.Variable(3), or tg.cast(x, tg.float32).")
    state: TapeState | None = tape._state
    if state is None:
        return why("tape_used", "this tape was created with persistent=False and has already given its gradient, so "
                   "its record is gone. Call explain() before gradient(), or use tg.GradientTape(persistent=True).")
    ids = state.ids
    reach, cut_by = _trace(state, s)
    # A source the tape never watched has no gradient even where it meets a watched tensor (TensorFlow).
    watched = id(s) in ids or any(t is s for t in targets)
    hit = [t for t in targets if id(t) in reach] if watched else []
    if hit:
        g = _gradient(state, targets, s)
        path = _path(state, hit[0], s, reach)
        if g is None:
            return why("no_gradient", f"although the target depends on {name} (through {' -> '.join(path)}), a "
                       "gradient rule on the way returned None for it: a custom_gradient whose grad_fn returns None "
                       "for that input. Return the input's gradient from grad_fn.")
        return Reason(name, "connected", f"{fmt(g._value)} ({g.dtype.name}): the target depends on {name} through "
                      f"{' -> '.join(path) if path else 'itself'}.", g)
    if id(s) not in ids:
        if isinstance(s, Variable):
            if not s.trainable:
                return why("not_trainable", f"{name} was created with trainable=False, so tapes do not watch it "
                           f"automatically. Call tape.watch({name}) inside the `with` block, or make it trainable.")
            if not state.watch_accessed_variables:
                return why("not_watched_accessed", f"this tape was created with watch_accessed_variables=False, so "
                           f"it watches only what you pass to tape.watch(); call tape.watch({name}).")
        else:
            replaced = _replaced_variable(frame, s)
            if replaced is not None:
                line, text = replaced
                return why("variable_replaced", f"{name} is a Tensor, no longer the Variable it was: line {line} "
                           f"`{text}` made a new Tensor and bound the name to it, and tapes do not watch Tensors. "
                           f"Update the Variable in place instead (assign, assign_add, assign_sub: e.g. "
                           f"w.assign_sub(lr * grad) rather than w = w - lr * grad).")
            met = " It was used together with watched tensors, but gradients flow only from watched ones." \
                if any(id(t) in reach for t in targets) else ""
            return why("not_watched", f"{name} is a constant Tensor that this tape never watched, so the tape has no "
                       f"record of it.{met} Call tape.watch({name}) inside the `with` block before using it, or make"
                       f" it a tg.Variable (watched automatically). (If it was a Variable before, an assignment"
                       f" such as {name} = {name} + 1 replaced it by a Tensor: update Variables with"
                       " assign_add/assign_sub.)")
    return _target_causes(tape, state, targets, s, name, cut_by, why)


def _target_causes(tape: Any, state: TapeState, targets: list, s: Any, name: str, cut_by: dict, why: Any) -> Reason:
    """The source is watched (or a Variable never read): the reason lies on the way to the target."""
    ids = state.ids
    read = id(s) in ids
    for t in targets:
        if t._value.dtype.kind not in "fc":
            op = next((c[1].name for c in state.cuts if c[3] is t), None)
            made = f" (made by {op})" if op else ""
            return why("integer_target", f"the target has dtype {of_numpy(t._value.dtype).name}{made}; integer and "
                       "boolean results carry no gradient. Differentiate a floating-point result instead.")
    for t in targets:
        if id(t) in ids:
            continue
        made = gradient_origin(t)
        if made is not None and id(state) not in made[1]:
            other = "another tape" if made[0] is not tape else "this tape"
            return why("gradient_outside_tape", f"the target is the result of {other}'s gradient(), computed after "
                       "this tape stopped recording (outside its `with` block), so this tape never saw how it depends "
                       f"on {name}. For a second derivative, take the first gradient inside the outer tape's `with` "
                       "block (indent the inner tape.gradient(...) call one level deeper).")
    cut = next((cut_by[id(t)] for t in targets if id(t) in cut_by), None)
    if cut is None and cut_by and not any(id(t) in ids for t in targets):
        cut = next(iter(cut_by.values()))  # the target was made from an unrecorded value: the cut is the best lead
    if cut is not None:
        if cut == "stop_gradient":
            return why("stop_gradient", f"the path from {name} to the target goes through tg.stop_gradient, which "
                       "passes the value but no gradient. Remove the stop_gradient if the gradient should flow.")
        return why("not_differentiable", f"the path from {name} to the target goes through {cut}, which has no "
                   "gradient (its result is piecewise constant or an integer). Use a smooth alternative if the "
                   "gradient should flow.")
    if not all(id(t) in ids for t in targets):
        if tape._paused:
            return why("stop_recording", f"the target was not recorded: this tape was paused with "
                       f"tape.stop_recording(), and operations run inside that block are not recorded. Move the "
                       f"computation from {name} to the target out of the stop_recording() block.")
        if read:
            return why("outside_tape", f"the target was not recorded by this tape, although {name} was used while it "
                       "recorded. " + _NOT_RECORDED.format(s=name))
        return why("outside_tape", f"{name} was never used while this tape was recording, and the target was not "
                   "recorded. " + _NOT_RECORDED.format(s=name))
    if not read:
        return why("unused", f"{name} was never read while this tape was recording, so the target (which was "
                   f"recorded) does not depend on it, as far as the tape knows. If the target uses {name} through a "
                   "value computed before the tape started (or before tape.reset()), compute that value inside the "
                   "`with` block; Variable.assign/assign_add/assign_sub are not recorded either.")
    return why("unused", f"the target does not depend on {name}: no recorded operation leads from {name} to it. "
               "That is a correct None (use unconnected_gradients=tg.UnconnectedGradients.ZERO for zeros).")


def _trace(state: TapeState, s: Any) -> tuple[set, dict]:
    """Ids reachable from ``s`` through recorded entries, and ids downstream of an op that cut the gradient
    (id -> the cutting op's name)."""
    reach = {id(s)}
    cut_by: dict[int, str] = {}
    cuts = state.cuts
    c = 0
    for i, (_, inputs, _, out) in enumerate(state.entries):
        while c < len(cuts) and cuts[c][0] <= i:
            _cut_step(cuts[c], reach, cut_by)
            c += 1
        if any(id(x) in reach for x in inputs):
            reach.add(id(out))
        else:
            op = next((cut_by[id(x)] for x in inputs if id(x) in cut_by), None)
            if op is not None:
                cut_by[id(out)] = op
    for cut in cuts[c:]:
        _cut_step(cut, reach, cut_by)
    return reach, cut_by


def _cut_step(cut: tuple, reach: set, cut_by: dict) -> None:
    _, prim, inputs, out = cut
    if any(id(x) in reach for x in inputs):
        cut_by[id(out)] = prim.name if prim.name != "cast" else "a cast to an integer type"
    else:
        op = next((cut_by[id(x)] for x in inputs if id(x) in cut_by), None)
        if op is not None:
            cut_by[id(out)] = op


def _gradient(state: TapeState, targets: list, s: Any) -> Any:
    with isolated():  # nothing records explain's own walk
        return backward(state.entries, targets, [None] * len(targets), [s])[0]


def _path(state: TapeState, t: Any, s: Any, reach: set) -> list[str]:
    """One chain of op names from s to t."""
    made = {id(e[3]): e for e in state.entries}
    out: list[str] = []
    cur = t
    while id(cur) != id(s) and id(cur) in made:
        prim, inputs, _, _ = made[id(cur)]
        if prim is not READ:
            out.append(prim.name)
        cur = next((x for x in inputs if id(x) in reach), None)
        if cur is None:
            break
    return out[::-1]


def _replaced_variable(frame: Any, s: Any) -> tuple[int, str] | None:
    """(line, statement) of an assignment like ``x = x + 1`` that rebound a Variable's name to this Tensor.

    Read from the caller's source code (never run); None when the source is not available or shows no such line.
    """
    if frame is None:
        return None
    names = [k for k, v in {**frame.f_globals, **frame.f_locals}.items() if v is s]
    if not names:
        return None
    code = frame.f_code
    try:
        if code.co_name == "<module>":
            lines = linecache.getlines(code.co_filename, frame.f_globals)
            first = 1
        else:
            lines, first = inspect.getsourcelines(code)
        tree = ast.parse(textwrap.dedent("".join(lines)))
    except (OSError, TypeError, SyntaxError, IndentationError):
        return None
    for name in names:
        found = _rebinding(tree, name, frame.f_lineno - first + 1)
        if found is not None:
            line, text = found
            return line + first - 1, text
    return None


def _rebinding(tree: ast.AST, name: str, now: int) -> tuple[int, str] | None:
    events = []  # (line, kind, text): kind "variable" creates a Variable, "self" rebinds name from itself
    for node in ast.walk(tree):
        if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
            events.append((node.lineno, "self", ast.unparse(node)))
        elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            value = node.value
            func = value.func if isinstance(value, ast.Call) else None
            if (isinstance(func, ast.Name) and func.id == "Variable") or (
                    isinstance(func, ast.Attribute) and func.attr == "Variable"):
                events.append((node.lineno, "variable", ""))
            elif any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(value)):
                events.append((node.lineno, "self", ast.unparse(node)))
            else:
                events.append((node.lineno, "other", ""))
    events.sort()
    before = [e for e in events if e[0] < now]
    if not before or not any(e[1] == "variable" for e in events):
        return None
    last = before[-1]
    if last[1] == "self" and any(e[1] == "variable" and e[0] < last[0] for e in events):
        return last[0], last[2]
    if last[1] == "variable":  # the name holds a Tensor, so a later line ran first: a loop
        later = [e for e in events if e[0] > now and e[1] == "self"]
        if later:
            return later[0][0], later[0][2]
    return None
