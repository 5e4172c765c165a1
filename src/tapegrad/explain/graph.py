"""``tape.graph(target)``: the recorded computation, values and gradients on every node, as DOT text
(rendered by the Graphviz ``dot`` program when installed)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tapegrad._core.backward import backward
from tapegrad._core.record import READ, TapeState
from tapegrad._core.state import isolated
from tapegrad._core.tensor import Operand

from .names import caller, fmt, names_in

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["Graph", "graph"]


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
    names = names_in(caller())
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
    with isolated():
        grads = backward(state.entries, [t], [None], tracked)
    grad_of = {id(v): g for v, g in zip(tracked, grads)}
    made_by = {id(node(e[3])): e[0].name for e in ops}

    lines = ["digraph tape {", "  rankdir=LR;", '  node [fontname="Helvetica", fontsize=11];',
             '  edge [color="#555555"];']
    key: dict[int, str] = {}
    for k, (vid, v) in enumerate(values.items()):
        key[vid] = f"v{k}"
        label = names.get(vid) or ("" if vid in made_by else "const")  # an op's result: its op names it
        fields = ([_esc(label)] if label else []) + [_esc("value " + fmt(v._value))]
        if vid in grad_of:
            g = grad_of[vid]
            fields.append(_esc("grad " + ("None" if g is None else fmt(g._value))))
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
