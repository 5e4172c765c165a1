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
from tapegrad.tape import Spent

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
                 "(np.asarray(t), t.numpy(), float(t)) and came back as a new constant. Compute the whole path "
                 "from {s} to the target with tapegrad operations inside the tape's `with` block.")


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
    view = _Live(tape._state) if tape._state is not None else _Kept(tape._spent) if tape._spent is not None else None
    if view is None or not view.knows(s):
        kept = " It kept a record only of the sources of a gradient() that returned None." if view else ""
        return why("tape_used", "this tape was created with persistent=False and has already given its gradient, so "
                   f"its record is gone.{kept} Call explain() before gradient(), or use "
                   "tg.GradientTape(persistent=True).")
    reach, cut_by = view.trace(s)
    # A source the tape never watched has no gradient even where it meets a watched tensor (TensorFlow).
    watched = view.watched(s) or any(t is s for t in targets)
    given = view.given(s)
    if given is not None:
        return Reason(name, "connected", f"{fmt(given._value)} ({given.dtype.name}): gradient() gave it (a "
                      "non-persistent tape keeps no path after gradient()).", given)
    hit = [t for t in targets if id(t) in reach] if watched else []
    if hit or (watched and reach & view.rules_gave_none):
        g = view.gradient(targets, s) if hit else None
        path = view.path(hit[0], s, reach) if hit else []
        through = f" (through {' -> '.join(path)})" if path else ""
        if g is None:
            return why("no_gradient", f"although the target depends on {name}{through}, a gradient rule on the way "
                       "returned None for it: a custom_gradient whose grad_fn returns None for that input. Return "
                       "the input's gradient from grad_fn.")
        return Reason(name, "connected", f"{fmt(g._value)} ({g.dtype.name}): the target depends on {name} through "
                      f"{' -> '.join(path) if path else 'itself'}.", g)
    if not view.watched(s):
        if isinstance(s, Variable):
            if not s.trainable:
                return why("not_trainable", f"{name} was created with trainable=False, so tapes do not watch it "
                           f"automatically. Call tape.watch({name}) inside the `with` block, or make it trainable.")
            if not view.state.watch_accessed_variables:
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
    return _target_causes(tape, view, targets, s, name, cut_by, why)


def _target_causes(tape: Any, view: Any, targets: list, s: Any, name: str, cut_by: dict, why: Any) -> Reason:
    """The source is watched (or a Variable never read): the reason lies on the way to the target."""
    read = view.watched(s)
    for t in targets:
        if t._value.dtype.kind not in "fc":
            op = view.made_by(t)
            made = f" (made by {op})" if op else ""
            return why("integer_target", f"the target has dtype {of_numpy(t._value.dtype).name}{made}; integer and "
                       "boolean results carry no gradient. Differentiate a floating-point result instead.")
    for t in targets:
        if view.recorded(t):
            continue
        made = gradient_origin(t)
        if made is not None and id(view.state) not in made[1]:
            other = "another tape" if made[0] is not tape else "this tape"
            return why("gradient_outside_tape", f"the target is the result of {other}'s gradient(), computed after "
                       "this tape stopped recording (outside its `with` block), so this tape never saw how it depends "
                       f"on {name}. For a second derivative, take the first gradient inside the outer tape's `with` "
                       "block (indent the inner tape.gradient(...) call one level deeper).")
    # Only a cut the target provably comes from: the target itself, or a value the walk took to the target.
    cut = next((cut_by[id(t)] for t in targets if id(t) in cut_by), None) or view.cut_on_walk(cut_by)
    if cut is not None:
        if cut == "stop_gradient":
            return why("stop_gradient", f"the path from {name} to the target goes through tg.stop_gradient, which "
                       "passes the value but no gradient. Remove the stop_gradient if the gradient should flow.")
        return why("not_differentiable", f"the path from {name} to the target goes through {cut}, which has no "
                   "gradient (its result is piecewise constant or an integer). Use a smooth alternative if the "
                   "gradient should flow.")
    if not all(view.recorded(t) for t in targets):
        if tape._paused:
            return why("stop_recording", f"the target was not recorded: this tape was paused with "
                       f"tape.stop_recording(), and operations run inside that block are not recorded. Move the "
                       f"computation from {name} to the target out of the stop_recording() block.")
        if read:
            return why("outside_tape", f"the target was never recorded by this tape, although {name} was used while "
                       "it recorded. " + _NOT_RECORDED.format(s=name))
        return why("outside_tape", f"no operation this tape recorded read {name}, and the target was never "
                   "recorded. " + _NOT_RECORDED.format(s=name))
    if not read:
        return why("unused", f"{name} was never read while this tape was recording, so the target (which was "
                   f"recorded) does not depend on it, as far as the tape knows. If the target uses {name} through a "
                   "value computed before the tape started (or before tape.reset()), compute that value inside the "
                   "`with` block; Variable.assign/assign_add/assign_sub are not recorded either.")
    return why("unused", f"the target does not depend on {name}: no recorded operation leads from {name} to it. "
               "That is a correct None (use unconnected_gradients=tg.UnconnectedGradients.ZERO for zeros).")


class _Live:
    """explain's view of a tape that still holds its record."""

    rules_gave_none: frozenset = frozenset()

    def __init__(self, state: TapeState) -> None:
        self.state = state

    def knows(self, s: Any) -> bool:
        return True

    def given(self, s: Any) -> Any:
        return None

    def watched(self, x: Any) -> bool:
        return id(x) in self.state.ids

    recorded = watched

    def trace(self, s: Any) -> tuple[set, dict]:
        edges = [(i, 1, e[0], tuple(map(id, e[1])), id(e[3])) for i, e in enumerate(self.state.entries)]
        cuts = [(at, 0, prim, tuple(map(id, inputs)), id(out)) for at, prim, inputs, out in self.state.cuts]
        return _trace(sorted(edges + cuts, key=lambda e: e[:2]), s)

    def gradient(self, targets: list, s: Any) -> Any:
        with isolated():  # nothing records explain's own walk
            return backward(self.state.entries, targets, [None] * len(targets), [s])[0]

    def path(self, t: Any, s: Any, reach: set) -> list[str]:
        return _path(self.state, t, s, reach)

    def made_by(self, t: Any) -> str | None:
        return next((c[1].name for c in self.state.cuts if c[3] is t), None)

    def cut_on_walk(self, cut_by: dict) -> str | None:
        return None  # (the live record follows every recorded path to the target: trace() saw it all)


class _Kept:
    """explain's view of a spent non-persistent tape: the ids and op names gradient() kept (tape.Spent)."""

    def __init__(self, spent: Spent) -> None:
        self.spent = spent
        self.state = spent.state
        walk = spent.walk
        self.rules_gave_none = {ids[0] for what, _, _, ids, _ in walk if what == "none"}
        self.passed = {out for what, _, _, _, out in walk if what == "passed"}  # recorded, not on the walk
        self.fed = {out for what, _, _, _, out in walk if what == "fed"}  # on the walk, fed by a cut's result

    def _source(self, s: Any) -> tuple | None:
        found = self.spent.sources.get(id(s))
        return found if found is not None and found[0]() is s else None

    def knows(self, s: Any) -> bool:
        return self._source(s) is not None

    def given(self, s: Any) -> Any:
        return self._source(s)[2]  # type: ignore[index]

    def watched(self, x: Any) -> bool:
        found = self._source(x)
        return found is not None and found[1]

    def recorded(self, t: Any) -> bool:
        return id(t) in self.spent.reach or id(t) in self.passed or any(v is t for v in self.spent.variables)

    def trace(self, s: Any) -> tuple[set, dict]:
        edges = [(i, 1, prim, ids, out) for what, i, prim, ids, out in self.spent.walk if what != "none"]
        cuts = [(at, 0, prim, ids, out) for at, prim, ids, out in self.spent.cuts]
        return _trace(sorted(edges + cuts, key=lambda e: e[:2]), s)

    def gradient(self, targets: list, s: Any) -> Any:
        return None

    def path(self, t: Any, s: Any, reach: set) -> list[str]:
        return []

    def made_by(self, t: Any) -> str | None:
        return next((c[1].name for c in self.spent.cuts if c[3] == id(t)), None)

    def cut_on_walk(self, cut_by: dict) -> str | None:
        # A value made from a cut's result that fed an entry the walk took to the target (tape.Spent).
        return next((cut_by[out] for out in self.fed if out in cut_by), None)


def _trace(edges: list, s: Any) -> tuple[set, dict]:
    """Ids reachable from ``s`` through recorded entries, and ids downstream of an op that cut the gradient
    (id -> the cutting op's name). ``edges``: (order, 0 for a cut / 1 for an entry, prim, input ids, output id),
    in the order they ran."""
    reach = {id(s)}
    cut_by: dict[int, str] = {}
    for _, is_entry, prim, ids, out in edges:
        if any(x in reach for x in ids):
            if is_entry:
                reach.add(out)
            else:
                cut_by[out] = prim.name if prim.name != "cast" else "a cast to an integer type"
        else:
            op = next((cut_by[x] for x in ids if x in cut_by), None)
            if op is not None:
                cut_by[out] = op
    return reach, cut_by


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
