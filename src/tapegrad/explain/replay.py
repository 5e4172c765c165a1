"""``tape.replay(target, sources)``: the backward pass one rule at a time, the chain rule made visible.

The walk is the tape's own (the same rules, in the same reverse order), run in isolation so no
tape records it; each step keeps what the op received, the rule it applied and what it sent on.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tapegrad._core.backend import xp
from tapegrad._core.backward import Seed, ones_like
from tapegrad._core.state import isolated
from tapegrad._core.tensor import Operand
from tapegrad._files import open_atomic

from . import draw
from .graph import Model, drawing, model, short, value_lines
from .names import caller, describe, names_in
from .rules import formula

__all__ = ["Replay", "Send", "Step", "replay"]


@dataclass
class Send:
    """What one step sent to one input: the rule's text, and its cotangent (None: nothing sent, and why)."""

    input: str
    rule: str
    cotangent: Any  # ndarray or None
    why_not: str = ""


@dataclass
class Step:
    """One op of the backward pass: the cotangent ``g`` of its result, and what it sent to each input."""

    number: int  # 1 is the first rule applied: the op that ran last
    op: int  # its number in the forward order (1 ran first)
    name: str
    line: str | None
    output: str
    g: Any
    sends: list[Send] = field(default_factory=list)


class Replay:
    """The steps of a backward pass: ``print()`` it for a table, ``draw(k)`` for step k on the graph.

    >>> import tapegrad as tg
    >>> x = tg.Variable(3.0)
    >>> with tg.GradientTape(persistent=True) as tape:
    ...     y = x * x
    >>> r = tape.replay(y, x)
    >>> len(r), r[0].name, [float(s.cotangent) for s in r[0].sends]
    (1, 'multiply', [3.0, 3.0])
    >>> float(r.gradients[0])
    6.0
    """

    def __init__(self, m: Model, steps: list[Step], sources: list[str], gradients: list[Any],
                 history: list[dict[int, Any]], rankdir: str) -> None:
        self.model = m
        self.steps = steps
        self.sources = sources
        self.gradients = gradients  # per source: an ndarray, or None where unconnected
        self._history = history  # cotangents by value index, after each step (0: the seed alone)
        self.rankdir = rankdir
        self._sizes: list[tuple[float, float]] | None = None

    def __len__(self) -> int:
        return len(self.steps)

    def __getitem__(self, k: int) -> Step:
        return self.steps[k]

    def __iter__(self) -> Any:
        return iter(self.steps)

    def __repr__(self) -> str:
        return self.text()

    def text(self) -> str:
        """The steps as a table: op, line, the cotangent g it received, each input's rule and cotangent.

        >>> import tapegrad as tg
        >>> x = tg.Variable(3.0)
        >>> with tg.GradientTape(persistent=True) as tape:
        ...     y = 2.0 * x
        >>> print(tape.replay(y, x).text())  # doctest: +ELLIPSIS
        Backward pass of y with respect to x: 1 step, the op that ran last first
        step  op           g (of result)  input  rule   sends
           1  1: multiply  y: 1           2      g * x  - (leads to no source)
                                          x      g * 2  2
        gradients: x = 2
        """
        names = self.model.values[self.model.target].name or "the target"
        head = (f"Backward pass of {names} with respect to {', '.join(self.sources)}: {len(self.steps)} "
                f"step{'s' * (len(self.steps) != 1)}, the op that ran last first")
        lines = any(s.line for s in self.steps)
        cols = ["step", "op"] + ["line"] * lines + ["g (of result)", "input", "rule", "sends"]
        rows = []
        for s in self.steps:
            for i, send in enumerate(s.sends):
                first = [str(s.number), f"{s.op}: {s.name}", *[s.line or ""] * lines,
                         f"{s.output}: {short(s.g, True)}"]
                got = short(send.cotangent, True) if send.cotangent is not None else f"- ({send.why_not})"
                rows.append((first if i == 0 else [""] * len(first)) + [send.input, send.rule, got])
        width = [max(len(r[c]) for r in [cols, *rows]) for c in range(len(cols))]
        if any(s.output.startswith("t") and s.output[1:].isdigit() for s in self.steps):
            head += " (tN: the result of op N)"
        out = [head, "  ".join(c.ljust(w) for c, w in zip(cols, width)).rstrip()]
        for r in rows:
            out.append("  ".join(v.rjust(w) if c == 0 else v.ljust(w) for c, (v, w) in
                                 enumerate(zip(r, width))).rstrip())
        grads = ", ".join(f"{n} = {'None' if g is None else short(g, True)}"
                          for n, g in zip(self.sources, self.gradients))
        out.append(f"gradients: {grads}")
        return "\n".join(out)

    def __str__(self) -> str:
        return self.text()

    def to_pandas(self) -> Any:
        """One row per (step, input): step, op, name, line, output, g, input, rule, cotangent (needs pandas).

        >>> import tapegrad as tg
        >>> x = tg.Variable(3.0)
        >>> with tg.GradientTape(persistent=True) as tape:
        ...     y = x * x
        >>> tape.replay(y, x).to_pandas()["cotangent"].tolist()
        [3.0, 3.0]
        """
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("Replay.to_pandas() needs pandas: pip install 'tapegrad[plot]'. Without it, "
                              "print(replay) shows the same table as text") from None

        def cell(v: Any) -> Any:
            return None if v is None else (v.item() if v.size == 1 else v)

        return pd.DataFrame([{"step": s.number, "op": s.op, "name": s.name, "line": s.line, "output": s.output,
                              "g": cell(xp.asarray(s.g)), "input": send.input, "rule": send.rule,
                              "cotangent": cell(None if send.cotangent is None else xp.asarray(send.cotangent))}
                             for s in self.steps for send in s.sends])

    # -- pictures ----------------------------------------------------------------------------
    def draw(self, k: int) -> draw.Picture:
        """Step ``k`` on the graph (0: before the first rule, with the seed 1 on the target).

        The op of the step is highlighted, the cotangents it sends label its edges, and each
        value shows its cotangent so far ("grad" once every op that used it has sent its share).

        >>> import tapegrad as tg
        >>> x = tg.Variable(3.0)
        >>> with tg.GradientTape(persistent=True) as tape:
        ...     y = x * x
        >>> "grad 6" in tape.replay(y, x).draw(1).svg()
        True
        """
        if not 0 <= k <= len(self.steps):
            raise IndexError(f"draw(k): k runs from 0 (before the first step) to {len(self.steps)}, not {k}")
        m = self.model
        cot = self._history[k]
        step = self.steps[k - 1] if k else None
        done_to = step.op if step else len(m.ops) + 1  # ops numbered >= this have sent their share
        nodes, edges = drawing(m)
        users: dict[int, list[int]] = {}
        for op in m.ops:
            for i in op.inputs:
                users.setdefault(i, []).append(op.n)
        for i, v in enumerate(m.values):
            has = i in cot
            final = all(n >= done_to for n in users.get(i, []))
            nodes[i].lines = self._lines(i, cot.get(i), has, "grad" if final else "grad so far")
            nodes[i].faded = not has and v.role != "const"
        if step is not None:
            op = m.ops[step.op - 1]
            o = len(m.values) + step.op - 1
            nodes[o].hot = True
            for e in edges:
                if e.tail == o:
                    e.hot, e.label = True, f"g = {short(step.g)}"
            ins = [e for e in edges if e.head == o]
            for e, send in zip(ins, step.sends):
                if send.cotangent is not None:
                    e.hot, e.label = True, short(send.cotangent)
            caption = (f"step {k} of {len(self.steps)}: {op.name} (op {op.n}) gets g = {short(step.g)} and sends "
                       + ", ".join(f"{s.input}: {s.rule} = {short(s.cotangent)}" for s in step.sends
                                   if s.cotangent is not None))
        else:
            caption = f"step 0 of {len(self.steps)}: the walk starts with g = 1 on the target"
        if self._sizes is None:
            self._sizes = self._widest()
        return draw.Picture(draw.place(nodes, edges, self.rankdir, caption, sizes=self._sizes))

    def _lines(self, i: int, g: Any, has: bool, word: str) -> list[str]:
        v = self.model.values[i]
        tag = [f"t{self.model.ops[v.op].n}"] if v.op >= 0 and not v.name else []  # as the table calls it
        return tag + value_lines(v, g, has, word)

    def _widest(self) -> list[tuple[float, float]]:
        """Every frame's node sizes, so that all frames share one layout."""
        m = self.model
        nodes, _ = drawing(m)
        sizes = [draw.size(n) for n in nodes]
        for i, v in enumerate(m.values):
            probe = draw.Node("", "value", self._lines(i, v.grad, v.has_grad, "grad so far"))
            w, h = draw.size(probe)
            sizes[i] = (max(sizes[i][0], w), max(sizes[i][1], h))
        return sizes

    def animate(self, path: Any, seconds_per_step: float = 1.2) -> Any:
        """Every step as one frame of an animated GIF (needs matplotlib, which brings Pillow).

        >>> import os, tempfile, tapegrad as tg
        >>> x = tg.Variable(3.0)
        >>> with tg.GradientTape(persistent=True) as tape:
        ...     y = x * x
        >>> tape.replay(y, x).animate(os.path.join(tempfile.mkdtemp(), "walk.gif")).exists()  # doctest: +SKIP
        True
        """
        import io
        from pathlib import Path

        try:
            from PIL import Image
        except ImportError:
            raise ImportError("Replay.animate() needs Pillow and matplotlib: pip install 'tapegrad[plot]'. "
                              "Without them, draw(k).svg() gives each step as SVG") from None
        frames = []
        for k in range(len(self.steps) + 1):
            buf = io.BytesIO()
            self.draw(k).figure(dpi=100).savefig(buf, format="png")
            buf.seek(0)
            frames.append(Image.open(buf).convert("RGB"))
        path = Path(path)
        ms = int(seconds_per_step * 1000)
        with open_atomic(path, "wb") as f:  # whole or not at all
            frames[0].save(f, format="GIF", save_all=True, append_images=frames[1:],
                           duration=[ms] * (len(frames) - 1) + [3 * ms], loop=0)
        return path


def replay(tape: Any, target: Any, sources: Any, rankdir: str = "LR") -> Replay:
    """Walk the backward pass of ``target`` one rule at a time, for ``sources`` (a tensor or a list).

    Works on a persistent tape, or inside the ``with`` block; it uses nothing up.

    >>> import tapegrad as tg
    >>> x = tg.constant(100.0)
    >>> b = tg.constant(10.0)
    >>> with tg.GradientTape() as tape:
    ...     tape.watch(x)
    ...     y = x ** 2 + b
    ...     steps = tape.replay(y, x)
    >>> [(s.name, float(s.g)) for s in steps]
    [('add', 1.0), ('pow', 1.0)]
    >>> float(steps.gradients[0])
    200.0
    """
    names = names_in(caller())
    m = model(tape, target, "replay", names)
    srcs = [sources] if isinstance(sources, Operand) else list(sources)
    for s in srcs:
        if not isinstance(s, Operand):
            raise TypeError(f"replay(): sources must be Tensors or Variables (one, or a list), not "
                            f"{type(s).__name__}")
    source_at = [m.find(s) for s in srcs]
    reach = {i for i in source_at if i is not None}
    for op in m.ops:
        if any(i in reach for i in op.inputs):
            reach.add(op.out)

    def label(i: int) -> str:
        v = m.values[i]
        if v.name:
            return v.name
        if v.op >= 0:
            return f"t{m.ops[v.op].n}"
        if v.role == "const":
            return short(v.obj._value) if v.obj._value.size == 1 else "const"
        return describe(v.obj, {}, "tensor")

    cot: dict[int, Any] = {}
    history: list[dict[int, Any]] = []
    steps: list[Step] = []
    if m.target in reach:
        seed = object.__new__(Seed)
        seed._value = ones_like(target._value)
        cot[m.target] = seed
    history.append({i: g._value for i, g in cot.items()})
    with isolated():
        for op in reversed(m.ops):
            g = cot.get(op.out)
            if g is None:
                continue
            prim, inputs, params, out = op.entry
            step = Step(len(steps) + 1, op.n, op.name, _line(tape, op.entry), label(op.out), g._value)
            letters = {"abc"[k]: label(i) for k, i in enumerate(op.inputs[:3])}
            letters["out"] = label(op.out)
            for k, (x, i) in enumerate(zip(inputs, op.inputs)):
                rule = prim.vjps[k]
                text = formula(op.name, k, len(inputs), tuple(x._value.shape), tuple(out._value.shape), letters)
                who = label(i)
                if rule is None:
                    step.sends.append(Send(who, "-", None, "no gradient through this input"))
                    continue
                if i not in reach:
                    step.sends.append(Send(who, text, None, "leads to no source"))
                    continue
                gx = rule(g, out, *inputs, **params) if params else rule(g, out, *inputs)
                if gx is None:
                    step.sends.append(Send(who, text, None, "zero"))
                    continue
                prev = cot.get(i)
                cot[i] = gx if prev is None else prev + gx
                step.sends.append(Send(who, text, gx._value))
            steps.append(step)
            history.append({i: g._value for i, g in cot.items()})
    gradients = [None if i is None or i not in cot else cot[i]._value for i in source_at]
    return Replay(m, steps, [describe(s, names, f"source {n}") for n, s in enumerate(srcs)], gradients, history,
                  rankdir)


def _line(tape: Any, entry: Any) -> str | None:
    """The user's line that recorded ``entry``, where the core keeps one (``state.lines``: id(output) -> text)."""
    lines = getattr(tape._state, "lines", None)
    if isinstance(lines, dict):
        return lines.get(id(entry[3]))
    return None
