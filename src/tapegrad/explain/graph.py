"""``tape.graph(target)``: the recorded computation, with values and gradients on every node.

Drawn by tapegrad itself (a layered layout in pure Python, see ``layout``): SVG with no dependency,
PNG/PDF through matplotlib, a text tree for terminals; DOT text for Graphviz users, whose ``dot``
program is an option (``engine="dot"``), never a requirement.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tapegrad._core.backend import xp
from tapegrad._core.backward import backward
from tapegrad._core.record import READ, TapeState
from tapegrad._core.state import isolated
from tapegrad._core.tensor import Operand, Variable

from . import draw
from .names import caller, fmt, names_in

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["Graph", "graph"]


@dataclass
class Value:
    obj: Any
    name: str  # the user's name, or ""
    role: str  # source (watched, not computed here), target, value (computed), const (not watched)
    grad: Any = None  # ndarray, or None for "no gradient"
    has_grad: bool = False
    op: int = -1  # index into Model.ops of the op that made it


@dataclass
class Op:
    n: int  # 1, 2, ...: the order it ran in
    name: str
    inputs: list[int]  # indices into Model.values
    out: int
    entry: Any = None


@dataclass
class Model:
    values: list[Value] = field(default_factory=list)
    ops: list[Op] = field(default_factory=list)
    target: int = 0
    index: dict[int, int] = field(default_factory=dict)  # id of a tensor (or of a Variable's read) -> value

    def find(self, x: Any) -> int | None:
        return self.index.get(id(x))


def short(v: Any, shape: bool = False) -> str:
    """A value in a few characters: the number, a list of up to 8, or the mean (after the shape if ``shape``).

    >>> from tapegrad.explain.graph import short
    >>> short(2.5), short([1.0, -2.0]), short([[1.0, 2.0], [3.0, 4.0]], shape=True)
    ('2.5', '[1, -2]', '(2, 2) mean 2.5')
    """
    v = xp.asarray(v)
    if v.ndim == 0:
        return _num(v)
    if v.ndim == 1 and v.size <= 8:
        return "[" + ", ".join(_num(e) for e in v) + "]"
    return f"{tuple(v.shape)} " * shape + f"mean {fmt(xp.mean(v)) if v.size else 'nan'}"


def _num(e: Any) -> str:
    """Whole numbers in full (10010, not 1.001e+04), others to 4 significant digits."""
    if e.dtype.kind in "fi" and xp.isfinite(e) and float(e).is_integer() and abs(e) < 1e9:
        return str(int(e))
    return fmt(e)


class Graph(draw.Picture):
    """A recorded computation: ``print(g)`` shows a text tree, ``g.svg()`` draws it, ``g.source`` is DOT.

    >>> import tapegrad as tg
    >>> x = tg.Variable(3.0)
    >>> with tg.GradientTape() as tape:
    ...     y = x * x
    >>> print(tape.graph(y))
    y = multiply (op 1): value 9, grad 1
    ├── x (watched): value 3, grad 6
    └── x (above)
    >>> tape.graph(y).svg().startswith("<svg")
    True
    """

    def __init__(self, model: Model, rankdir: str = "LR") -> None:
        if rankdir not in ("LR", "TB"):
            raise ValueError(f"rankdir must be 'LR' (left to right) or 'TB' (top to bottom), not {rankdir!r}")
        super().__init__()
        self.model = model
        self.rankdir = rankdir

    # -- text --------------------------------------------------------------------------------
    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        m = self.model
        return (f"<tapegrad.Graph: {len(m.ops)} ops, {len(m.values)} values; print() it for a text tree, "
                ".svg() or .render('graph.svg'/'graph.png') to draw it, .source for DOT>")

    def text(self) -> str:
        """The graph as a tree in text, target at the root; a value used twice is written out once.

        >>> import tapegrad as tg
        >>> x, b = tg.Variable(20.0), tg.Variable(10.0)
        >>> with tg.GradientTape() as tape:
        ...     y = x ** 2 + b ** 2
        >>> print(tape.graph(y).text())
        y = add (op 3): value 500, grad 1
        ├── pow (op 1): value 400, grad 1
        │   ├── x (watched): value 20, grad 40
        │   └── const: value 2
        └── pow (op 2): value 100, grad 1
            ├── b (watched): value 10, grad 20
            └── const: value 2
        """
        m, seen, out = self.model, set(), []

        def walk(i: int, head: str, tail: str) -> None:
            v = m.values[i]
            if i in seen and v.role != "const":
                op = m.ops[v.op] if v.op >= 0 else None
                out.append(f"{head}{v.name or (f'{op.name} (op {op.n})' if op else 'value')} (above)")
                return
            seen.add(i)
            out.append(head + _describe(m, v))
            kids = m.ops[v.op].inputs if v.op >= 0 else []
            for k, c in enumerate(kids):
                last = k == len(kids) - 1
                walk(c, tail + ("└── " if last else "├── "), tail + ("    " if last else "│   "))

        walk(m.target, "", "")
        return "\n".join(out)

    @property
    def source(self) -> str:
        """DOT text, for Graphviz (``dot -Tsvg``) and the ``graphviz`` package.

        >>> import tapegrad as tg
        >>> x = tg.Variable(3.0)
        >>> with tg.GradientTape() as tape:
        ...     y = x * x
        >>> print(tape.graph(y).source.splitlines()[0])
        digraph tape {
        """
        return _dot(self.model, self.rankdir)

    # -- pictures ----------------------------------------------------------------------------
    def placed(self) -> draw.Placed:
        if self._placed is None:
            nodes, edges = drawing(self.model)
            self._placed = draw.place(nodes, edges, self.rankdir)
        return self._placed

    def pipe(self, format: str = "svg", engine: str = "tapegrad") -> bytes:
        """The drawing as bytes: ``svg`` always; ``png``/``pdf`` through matplotlib; ``engine="dot"``: Graphviz.

        >>> import tapegrad as tg
        >>> x = tg.Variable(3.0)
        >>> with tg.GradientTape() as tape:
        ...     y = x * x
        >>> tape.graph(y).pipe("svg").startswith(b"<svg")
        True
        """
        if engine == "dot":
            return _graphviz(self.source, format)
        if engine != "tapegrad":
            raise ValueError(f"engine must be 'tapegrad' (our own layout) or 'dot' (the Graphviz program), "
                             f"not {engine!r}")
        if format not in ("svg", "png", "pdf"):
            raise ValueError(f"tapegrad draws svg, png and pdf, not {format!r}; engine='dot' asks Graphviz for "
                             "its other formats")
        return super().pipe(format)

    def render(self, path: str | Path, format: str | None = None, engine: str = "tapegrad") -> Path:
        """Draw the graph into ``path``; the format comes from its suffix (.svg, .png, .pdf) unless given.

        >>> import os, tempfile, tapegrad as tg
        >>> x = tg.Variable(3.0)
        >>> with tg.GradientTape() as tape:
        ...     y = x * x
        >>> tape.graph(y).render(os.path.join(tempfile.mkdtemp(), "y.svg")).exists()
        True
        """
        return super().render(path, format, engine=engine)

    def to_graphviz(self) -> Any:
        """A ``graphviz.Source`` (needs the ``graphviz`` Python package), for Graphviz's own tools.

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
                              "Graphviz program for drawing). Without them, Graph.svg() draws the graph and "
                              "Graph.source is the DOT text.") from None
        return graphviz.Source(self.source)



def graph(tape: Any, target: Any, rankdir: str = "LR") -> Graph:
    """The computation the tape recorded for ``target``: each value's name, shape, value and gradient, each op.

    Values are boxes, operations ellipses numbered in the order they ran (the backward pass
    visits them in reverse). ``print(graph)`` shows a text tree, ``graph.render("y.svg")`` (or
    .png) draws it left to right (``rankdir="TB"``: top to bottom), ``graph.source`` is DOT.

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
    return Graph(model(tape, target, "graph", names_in(caller())), rankdir)


def model(tape: Any, target: Any, what: str, names: dict[int, str]) -> Model:
    """What ``graph`` and ``replay`` draw: values and ops that lead to ``target``, with final gradients."""
    state: TapeState | None = tape._state
    if state is None:
        raise RuntimeError(f"{what}(): this tape was created with persistent=False and has already given its "
                           f"gradient, so its record is gone; call {what}() before gradient(), or use "
                           "persistent=True")
    if not isinstance(target, Operand):
        raise TypeError(f"{what}(): the target must be a tensor computed inside the tape, not "
                        f"{type(target).__name__}")
    if id(target) not in state.ids:
        raise ValueError(f"{what}(): the target was not recorded by this tape, so there is nothing to show; "
                         "tape.explain(target, sources) says why")
    entries = _ancestors(state, target)
    alias = {id(e[3]): e[1][0] for e in entries if e[0] is READ}  # a Variable's reads drawn as the Variable
    m = Model()
    index = m.index

    def value(x: Any) -> int:
        x = alias.get(id(x), x)
        if id(x) not in index:
            index[id(x)] = len(m.values)
            m.values.append(Value(x, names.get(id(x), ""), "source" if id(x) in state.ids else "const"))
        return index[id(x)]

    for entry in entries:
        if entry[0] is READ:
            continue
        prim, inputs, _, out = entry
        ins = [value(x) for x in inputs]
        o = value(out)
        m.ops.append(Op(len(m.ops) + 1, prim.name, ins, o, entry))
        m.values[o].op = len(m.ops) - 1
        m.values[o].role = "value"
    m.target = value(target)
    for snap, var in alias.items():
        if id(var) in index:
            index[snap] = index[id(var)]
    m.values[m.target].role = "target"
    tracked = [v for v in m.values if id(v.obj) in state.ids]
    with isolated():
        grads = backward(state.entries, [target], [None], [v.obj for v in tracked])
    for v, g in zip(tracked, grads):
        v.has_grad, v.grad = True, None if g is None else g._value
    return m


def _describe(m: Model, v: Value) -> str:
    head = v.name
    if v.op >= 0:
        op = m.ops[v.op]
        head = f"{head + ' = ' if head else ''}{op.name} (op {op.n})"
    elif v.role == "source":
        head = f"{head or ('Variable' if isinstance(v.obj, Variable) else 'tensor')} (watched)"
    else:
        head = head or "const"
    val = xp.asarray(v.obj._value)
    parts = [f"value {short(val)}" if val.ndim == 0 else f"shape {tuple(val.shape)}, {short(val)}"]
    if v.has_grad:
        parts.append("grad None" if v.grad is None else f"grad {short(v.grad)}")
    return f"{head}: {', '.join(parts)}"


def value_lines(v: Value, grad: Any = None, has_grad: bool | None = None, word: str = "grad") -> list[str]:
    """A value box's lines: name, shape (arrays), value, gradient."""
    val = xp.asarray(v.obj._value)
    lines = [v.name] if v.name else []
    if v.role == "const" and not v.name:
        lines = ["const"]
    if val.ndim:
        lines.append(f"shape {tuple(val.shape)}")
    lines.append(f"value {short(val)}")
    g, has = (v.grad, v.has_grad) if has_grad is None else (grad, has_grad)
    if has:
        lines.append(f"{word} None" if g is None else f"{word} {short(g)}")
    return lines


def drawing(m: Model) -> tuple[list[draw.Node], list[draw.Edge]]:
    """Boxes for values, ellipses for ops, edges input -> op -> output (values first, then ops)."""
    nodes = [draw.Node(f"v{i}", "value", value_lines(v), v.role, titled=bool(v.name))
             for i, v in enumerate(m.values)]
    nodes += [draw.Node(f"op{op.n}", "op", [f"{op.n}: {op.name}"], "op") for op in m.ops]
    edges = []
    for k, op in enumerate(m.ops):
        o = len(m.values) + k
        edges += [draw.Edge(i, o) for i in op.inputs] + [draw.Edge(o, op.out)]
    return nodes, edges


def _dot(m: Model, rankdir: str) -> str:
    lines = ["digraph tape {", f"  rankdir={rankdir};", '  node [fontname="Helvetica", fontsize=11];',
             '  edge [color="#555555"];']
    for i, v in enumerate(m.values):
        label = v.name or ("" if v.op >= 0 else "const")  # an op's result: its op names it
        fields = ([_esc(label)] if label else []) + [_esc("value " + fmt(v.obj._value))]
        if v.has_grad:
            fields.append(_esc("grad " + ("None" if v.grad is None else fmt(v.grad))))
        style = {"target": ', style="bold,filled", fillcolor="#ffe2b8"',
                 "source": ', style="filled", fillcolor="#cfe3ff"',
                 "const": ', style="dashed", fontcolor="#777777"'}.get(v.role, "")
        lines.append(f'  v{i} [shape=record, label="{{{"|".join(fields)}}}"{style}];')
    for op in m.ops:
        lines.append(f'  op{op.n} [shape=ellipse, label="{op.n}: {_esc(op.name)}"];')
        lines += [f"  v{i} -> op{op.n};" for i in op.inputs] + [f"  op{op.n} -> v{op.out};"]
    lines.append("}")
    return "\n".join(lines) + "\n"


def _graphviz(source: str, format: str) -> bytes:
    import shutil
    import subprocess

    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError("engine='dot' needs the Graphviz program `dot`, which is not installed (Debian/Ubuntu: "
                           "apt-get install graphviz; macOS: brew install graphviz; conda install graphviz). "
                           "Without it, the default engine draws svg, png and pdf itself.")
    done = subprocess.run([dot, f"-T{format}"], input=source.encode(), capture_output=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"Graphviz could not draw the graph as {format!r}: {done.stderr.decode().strip()}")
    out = done.stdout
    if format == "svg":
        out = out[out.find(b"<svg"):]  # without the XML prologue, ready to inline
    return out


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
