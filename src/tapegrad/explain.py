"""Why a gradient is what it is: ``tape.explain(target, sources)`` and ``tape.graph(target)``.

``explain`` reads what the tape recorded (entries, watched ids, and the ops that cut a
gradient) and names, for each source, the cause of a ``None``: never watched,
integer dtype, a trainable=False Variable, a Variable replaced by a Tensor, computed
outside the tape, cut by stop_gradient or stop_recording, or a gradient taken outside
the outer tape. ``graph`` draws the recorded computation, values and gradients on
every node, as DOT text (rendered by the Graphviz ``dot`` program when installed).
"""
from __future__ import annotations

import ast
import collections
import inspect
import linecache
import sys
import textwrap
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tapegrad._core import nest
from tapegrad._core.backend import xp
from tapegrad._core.backward import backward
from tapegrad._core.dtypes import of_numpy
from tapegrad._core.record import READ, STATE, TapeState
from tapegrad._core.tensor import Operand, Tensor, Variable, to_array, wrap

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["Explanation", "Graph", "Reason", "explain", "graph"]

# Recent results of gradient()/jacobian(): (result, the tape that made it, ids of the tapes recording then).
# Lets explain() recognise a first derivative taken outside the outer tape (bounded, weak: costs nothing later).
_RESULTS: collections.deque = collections.deque(maxlen=256)


_NONE_RECORDING: frozenset = frozenset()


def note_results(tape: Any, results: list) -> None:
    """Called by GradientTape after each gradient/jacobian."""
    recording = frozenset(map(id, STATE.tapes)) if STATE.tapes else _NONE_RECORDING
    made_by = weakref.ref(tape)
    for g in results:
        if isinstance(g, Tensor):
            _RESULTS.append((weakref.ref(g), made_by, recording))


def _gradient_result(t: Any) -> tuple | None:
    for ref, made_by, recording in reversed(_RESULTS):
        if ref() is t:
            return made_by(), recording
    return None


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


# ---- naming what the user named -----------------------------------------------------------------
def _caller() -> Any:
    """The first frame outside tapegrad: where the user's names live."""
    from pathlib import Path  # (drawing and naming only: kept out of `import tapegrad`)

    frame = sys._getframe(1)
    here = str(Path(__file__).resolve().parent)
    while frame is not None and str(Path(frame.f_code.co_filename).resolve()).startswith(here):
        frame = frame.f_back
    return frame


def _names(frame: Any) -> dict[int, str]:
    if frame is None:
        return {}
    out: dict[int, str] = {}
    for scope in (frame.f_globals, frame.f_locals):
        for k, v in scope.items():
            if isinstance(v, Operand) and not k.startswith("_"):
                out[id(v)] = k
    return out


def _describe(x: Any, names: dict[int, str], fallback: str) -> str:
    if id(x) in names:
        return names[id(x)]
    if isinstance(x, Variable):
        return f"Variable {x.name!r}"
    return fallback


def _fmt(value: Any) -> str:
    v = xp.asarray(value)
    if v.size == 1:
        return f"{v.reshape(())[()]:.4g}"
    if v.size <= 6:
        return xp.array2string(v.reshape(-1) if v.ndim > 1 else v, precision=4, separator=", ") + (
            f" (shape {tuple(v.shape)})" if v.ndim > 1 else "")
    return f"shape {tuple(v.shape)}, mean {float(xp.mean(v)):.4g}"


# ---- explain ------------------------------------------------------------------------------------
_NOT_RECORDED = ("The computation connecting {s} to the target did not happen while this tape was recording: it "
                 "ran before the tape started or after it stopped, or a value on the way went through NumPy "
                 "(np.mean(t), t.numpy(), float(t)) and came back as a new constant. Compute the whole path from {s} "
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
    frame = _caller()
    names = _names(frame)
    targets = [t if isinstance(t, Operand) else wrap(to_array(t)) for t in nest.flatten(target)]
    flat = nest.flatten(sources)
    for s in flat:
        if not isinstance(s, Operand):
            raise TypeError(f"explain(): sources must be Tensors or Variables, got {type(s).__name__}")
    target_name = ", ".join(_describe(t, names, "the target") for t in targets)
    reasons = [_explain_one(tape, targets, s, _describe(s, names, f"source {i}"), frame)
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
        return Reason(name, "connected", f"{_fmt(g._value)} ({g.dtype.name}): the target depends on {name} through "
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
        made = _gradient_result(t)
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


class _Quiet:
    """Nothing is recorded while explain() or graph() runs a backward pass of their own."""

    def __enter__(self) -> None:
        self.saved = STATE.tapes, STATE.hooks
        STATE.tapes, STATE.hooks = [], []

    def __exit__(self, *exc: Any) -> None:
        STATE.tapes, STATE.hooks = self.saved


def _gradient(state: TapeState, targets: list, s: Any) -> Any:
    with _Quiet():
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


# ---- graph --------------------------------------------------------------------------------------
class Graph:
    """A recorded computation as a graph: ``.source`` is DOT text; ``render``/``pipe`` draw it with Graphviz.

    >>> import tapegrad as tg
    >>> x = tg.Variable(3.0)
    >>> with tg.GradientTape() as tape:
    ...     y = x * x
    >>> print(tape.graph(y).source.splitlines()[0])
    digraph tape {
    """

    def __init__(self, source: str) -> None:
        self.source = source

    def __str__(self) -> str:
        return self.source

    def __repr__(self) -> str:
        return (f"<tapegrad.Graph, {self.source.count(' -> ')} edges: .source is the DOT text; .render('graph.svg') "
                "draws it with Graphviz>")

    def to_graphviz(self) -> Any:
        """A ``graphviz.Source`` (needs the ``graphviz`` Python package), for notebooks and its own tools.

        >>> import tapegrad as tg
        >>> x = tg.Variable(3.0)
        >>> with tg.GradientTape() as tape:
        ...     y = x * x
        >>> try:
        ...     src = tape.graph(y).to_graphviz()
        ... except ImportError:
        ...     pass
        """
        try:
            import graphviz
        except ImportError:
            raise ImportError("Graph.to_graphviz() needs the graphviz package: pip install graphviz (and the "
                              "Graphviz program for drawing). Without it, Graph.source is the DOT text.") from None
        return graphviz.Source(self.source)

    def pipe(self, format: str = "svg") -> bytes:
        """The drawing as bytes (``svg``, ``png``, ``pdf``), made by the Graphviz ``dot`` program.

        >>> import shutil, tapegrad as tg
        >>> x = tg.Variable(3.0)
        >>> with tg.GradientTape() as tape:
        ...     y = x * x
        >>> shutil.which("dot") is None or tape.graph(y).pipe("svg").startswith(b"<svg")
        True
        """
        import shutil
        import subprocess

        dot = shutil.which("dot")
        if dot is None:
            raise RuntimeError("drawing a graph needs the Graphviz program `dot`, which is not installed (Debian/"
                               "Ubuntu: apt-get install graphviz; macOS: brew install graphviz; conda install "
                               "graphviz). Graph.source holds the DOT text, which any Graphviz viewer can draw.")
        done = subprocess.run([dot, f"-T{format}"], input=self.source.encode(), capture_output=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"Graphviz could not draw the graph as {format!r}: {done.stderr.decode().strip()}")
        out = done.stdout
        if format == "svg":
            out = out[out.find(b"<svg"):]  # without the XML prologue, ready to inline
        return out

    def render(self, path: str | Path, format: str | None = None) -> Path:
        """Draw the graph into ``path``; the format comes from its suffix (.svg, .png, .pdf) unless given.

        >>> import os, shutil, tempfile, tapegrad as tg
        >>> x = tg.Variable(3.0)
        >>> with tg.GradientTape() as tape:
        ...     y = x * x
        >>> shutil.which("dot") is None or tape.graph(y).render(os.path.join(tempfile.mkdtemp(), "y.svg")).exists()
        True
        """
        from pathlib import Path

        path = Path(path)
        fmt = format or path.suffix.lstrip(".") or "svg"
        path.write_bytes(self.pipe(fmt))
        return path

    def _repr_svg_(self) -> str | None:  # Jupyter draws the graph when Graphviz is installed
        import shutil

        return self.pipe("svg").decode() if shutil.which("dot") else None


def graph(tape: Any, target: Any) -> Graph:
    """The computation the tape recorded for ``target``: each value's name, shape, value and gradient, each op.

    Values are boxes, operations ellipses numbered in the order they ran (the backward pass
    visits them in reverse). ``str(graph)`` is DOT text; ``graph.render("y.svg")`` draws it.

    >>> import tapegrad as tg
    >>> x, b = tg.Variable(20.0), tg.Variable(10.0)
    >>> with tg.GradientTape() as tape:
    ...     y = x ** 2 + b ** 2
    >>> print("\\n".join(l for l in tape.graph(y).source.splitlines() if "label" in l and "grad" in l))
      v0 [shape=record, label="{x|value 20|grad 40}", style="filled", fillcolor="#cfe3ff"];
      v2 [shape=record, label="{value 400|grad 1}"];
      v3 [shape=record, label="{b|value 10|grad 20}", style="filled", fillcolor="#cfe3ff"];
      v5 [shape=record, label="{value 100|grad 1}"];
      v6 [shape=record, label="{y|value 500|grad 1}", style="bold,filled", fillcolor="#ffe2b8"];
    """
    state: TapeState | None = tape._state
    if state is None:
        raise RuntimeError("graph(): this tape was created with persistent=False and has already given its gradient, "
                           "so its record is gone; call graph() before gradient(), or use persistent=True")
    t = target if isinstance(target, Operand) else None
    if t is None:
        raise TypeError(f"graph(): the target must be a tensor computed inside the tape, not {type(target).__name__}")
    if id(t) not in state.ids:
        raise ValueError("graph(): the target was not recorded by this tape, so there is nothing to draw; "
                         "tape.explain(target, sources) says why")
    names = _names(_caller())
    entries = _ancestors(state, t)
    alias = {id(e[3]): e[1][0] for e in entries if e[0] is READ}  # a Variable's reads drawn as the Variable
    ops = [e for e in entries if e[0] is not READ]

    def node(x: Any) -> Any:
        return alias.get(id(x), x)

    values: dict[int, Any] = {}
    for _, inputs, _, out in ops:
        for x in (*inputs, out):
            values.setdefault(id(node(x)), node(x))
    values.setdefault(id(node(t)), node(t))
    tracked = [v for v in values.values() if id(v) in state.ids]
    with _Quiet():
        grads = backward(state.entries, [t], [None], tracked)
    grad_of = {id(v): g for v, g in zip(tracked, grads)}
    made_by = {id(node(e[3])): e[0].name for e in ops}

    lines = ["digraph tape {", "  rankdir=LR;", '  node [fontname="Helvetica", fontsize=11];',
             '  edge [color="#555555"];']
    key: dict[int, str] = {}
    for k, (vid, v) in enumerate(values.items()):
        key[vid] = f"v{k}"
        label = names.get(vid) or ("" if vid in made_by else "const")  # an op's result: its op names it
        fields = ([_esc(label)] if label else []) + [_esc("value " + _fmt(v._value))]
        if vid in grad_of:
            g = grad_of[vid]
            fields.append(_esc("grad " + ("None" if g is None else _fmt(g._value))))
        style = ""
        if vid == id(node(t)):
            style = ', style="bold,filled", fillcolor="#ffe2b8"'
        elif vid not in made_by and vid in state.ids:
            style = ', style="filled", fillcolor="#cfe3ff"'
        elif vid not in state.ids:
            style = ', style="dashed", fontcolor="#777777"'
        lines.append(f'  {key[vid]} [shape=record, label="{{{"|".join(fields)}}}"{style}];')
    for n, (prim, inputs, _, out) in enumerate(ops, 1):
        op = f"op{n}"
        lines.append(f'  {op} [shape=ellipse, label="{n}: {_esc(prim.name)}"];')
        for x in inputs:
            lines.append(f"  {key[id(node(x))]} -> {op};")
        lines.append(f"  {op} -> {key[id(node(out))]};")
    lines.append("}")
    return Graph("\n".join(lines) + "\n")


def _ancestors(state: TapeState, t: Any) -> list:
    """The recorded entries that lead to ``t``, in execution order."""
    need = {id(t)}
    out = []
    for entry in reversed(state.entries):
        if id(entry[3]) in need:
            out.append(entry)
            need.update(id(x) for x in entry[1])
    return out[::-1]


def _esc(text: str) -> str:
    for ch in '\\{}|<>"':
        text = text.replace(ch, "\\" + ch)
    return text.replace("\n", " ")
