"""Drawing a graph with our own layout: SVG written by hand (no dependency), PNG/PDF/GIF through matplotlib.

A drawing is a list of ``Node`` (values as boxes, ops as ellipses, each with its lines of
text) and ``Edge``; ``layout.layout`` places them and the writers below only paint.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from tapegrad._files import open_atomic

from .layout import Layout, layout

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["Edge", "Node", "Picture", "place", "to_figure", "to_svg"]

FONT = 11.0
CHAR = 0.6 * FONT  # Helvetica's widest digits are 0.556 em: a safe width per character
LINE = 14.0
PAD = 6.0
MAX_CHARS = 34

STYLE = {  # fill, stroke, text colour, dash
    "source": ("#cfe3ff", "#2b5c9e", "#000000", ""),
    "target": ("#ffe2b8", "#b36200", "#000000", ""),
    "value": ("#ffffff", "#444444", "#000000", ""),
    "const": ("#ffffff", "#999999", "#666666", "4,3"),
    "op": ("#f2f2f2", "#444444", "#000000", ""),
}
HOT = ("#ffd54f", "#c62828")  # the op a replay step is at, and the cotangents it sends
_ids = itertools.count()


@dataclass
class Node:
    """One box (a value) or ellipse (an op); ``lines[0]`` is drawn bold when ``titled``."""

    key: str
    kind: str  # "value" or "op"
    lines: list[str]
    role: str = "value"  # source, target, value, const, op
    titled: bool = False
    hot: bool = False  # highlighted: the step a replay is at
    faded: bool = False  # not reached yet


@dataclass
class Edge:
    tail: int
    head: int
    label: str = ""
    hot: bool = False


@dataclass
class Placed:
    nodes: list[Node]
    edges: list[Edge]
    lay: Layout
    caption: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _clip(text: str) -> str:
    return text if len(text) <= MAX_CHARS else text[:MAX_CHARS - 1] + "…"


def size(node: Node) -> tuple[float, float]:
    chars = max((len(_clip(s)) for s in node.lines), default=1)
    w = chars * CHAR + 2 * PAD
    h = max(1, len(node.lines)) * LINE + 2 * PAD - 4
    if node.kind == "op":  # an ellipse around the text's box
        return max(w * 1.3, 44.0), max(h * 1.35, 28.0)
    return max(w, 30.0), h


def place(nodes: list[Node], edges: list[Edge], rankdir: str = "LR", caption: str = "",
          sizes: list[tuple[float, float]] | None = None) -> Placed:
    """Lay the nodes out (``rankdir`` LR: left to right, TB: top to bottom), each of ``sizes`` or its own."""
    lay = layout(sizes or [size(n) for n in nodes], [(e.tail, e.head) for e in edges], rankdir=rankdir)
    if caption:
        lay.height += LINE + 4
        lay.width = max(lay.width, len(caption) * CHAR + 24)
    return Placed(nodes, edges, lay, caption)


def _path(points: list[tuple[float, float]], lr: bool) -> list[tuple[str, list[tuple[float, float]]]]:
    """Cubic pieces between consecutive points, leaving and arriving along the direction of the edges."""
    segs = []
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        if lr:
            d = (x1 - x0) / 2
            segs.append(("C", [(x0 + d, y0), (x1 - d, y1), (x1, y1)]))
        else:
            d = (y1 - y0) / 2
            segs.append(("C", [(x0, y0 + d), (x1, y1 - d), (x1, y1)]))
    return segs


def _mid(points: list[tuple[float, float]]) -> tuple[float, float]:
    if len(points) % 2:
        return points[len(points) // 2]
    (x0, y0), (x1, y1) = points[len(points) // 2 - 1], points[len(points) // 2]
    return (x0 + x1) / 2, (y0 + y1) / 2


def _n(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def to_svg(p: Placed) -> str:
    """The drawing as a standalone SVG document (text), with no XML prologue so it can be inlined."""
    from html import escape  # here: html costs 2 ms of `import tapegrad`

    lay, uid = p.lay, next(_ids)
    lr = lay.rankdir == "LR"
    w, h = lay.width, lay.height
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{_n(w)}" height="{_n(h)}" '
           f'viewBox="0 0 {_n(w)} {_n(h)}" font-family="Helvetica, Arial, sans-serif" font-size="{_n(FONT)}">',
           "<defs>"]
    for name, colour in (("a", "#555555"), ("h", HOT[1])):
        out.append(f'<marker id="tg{uid}{name}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
                   f'markerHeight="8" markerUnits="userSpaceOnUse" orient="auto">'
                   f'<path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>')
    out += ["</defs>", f'<rect width="{_n(w)}" height="{_n(h)}" fill="#ffffff"/>']
    labels = []
    for e, pts in zip(p.edges, lay.edges):
        pts = pts[::-1] if e.hot else pts  # a cotangent flows against the edge
        d = f"M{_n(pts[0][0])},{_n(pts[0][1])}" + "".join(
            f" C{' '.join(f'{_n(x)},{_n(y)}' for x, y in ctrl)}" for _, ctrl in _path(pts, lr))
        colour, width, mark = (HOT[1], 2.2, "h") if e.hot else ("#555555", 1.1, "a")
        out.append(f'<path class="edge" d="{d}" fill="none" stroke="{colour}" stroke-width="{width}" '
                   f'marker-end="url(#tg{uid}{mark})"/>')
        if e.label:
            labels.append((e, _mid(pts)))
    for node, (cx, cy), (nw, nh) in zip(p.nodes, lay.centers, lay.sizes):
        fill, stroke, ink, dash = STYLE.get(node.role, STYLE["value"])
        if node.hot:
            fill, stroke = HOT[0], HOT[1]
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        if node.faded:
            extra += ' opacity="0.45"'
        sw = 2.4 if node.hot or node.role == "target" else 1.2
        out.append(f'<g class="node {node.kind}" id="{escape(node.key)}">')
        if node.kind == "op":
            out.append(f'<ellipse cx="{_n(cx)}" cy="{_n(cy)}" rx="{_n(nw / 2)}" ry="{_n(nh / 2)}" fill="{fill}" '
                       f'stroke="{stroke}" stroke-width="{sw}"{extra}/>')
        else:
            out.append(f'<rect x="{_n(cx - nw / 2)}" y="{_n(cy - nh / 2)}" width="{_n(nw)}" height="{_n(nh)}" '
                       f'rx="3" fill="{fill}" stroke="{stroke}" stroke-width="{sw}"{extra}/>')
        top = cy - (len(node.lines) - 1) * LINE / 2 + FONT * 0.35
        for i, line in enumerate(node.lines):
            look = ' font-weight="bold"' if i == 0 and node.titled else ""
            look += ' opacity="0.5"' if node.faded else ""
            out.append(f'<text x="{_n(cx)}" y="{_n(top + i * LINE)}" text-anchor="middle" fill="{ink}"{look}>'
                       f'{escape(_clip(line))}</text>')
        out.append("</g>")
    for e, (x, y) in labels:  # last, so no box covers them
        tw = len(e.label) * CHAR * 0.95 + 6
        colour = HOT[1] if e.hot else "#333333"
        out.append(f'<rect x="{_n(x - tw / 2)}" y="{_n(y - 8)}" width="{_n(tw)}" height="14" rx="2" '
                   f'fill="#ffffff" fill-opacity="0.9"/>')
        out.append(f'<text x="{_n(x)}" y="{_n(y + 3)}" text-anchor="middle" font-size="{_n(FONT - 1)}" '
                   f'fill="{colour}" font-weight="bold">{escape(e.label)}</text>')
    if p.caption:
        out.append(f'<text x="12" y="{_n(h - 8)}" fill="#333333">{escape(p.caption)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def to_figure(p: Placed, dpi: float = 100.0) -> Any:
    """The same drawing as a matplotlib Figure (for PNG, PDF and GIF frames)."""
    try:
        from matplotlib.figure import Figure
        from matplotlib.patches import Ellipse, FancyArrowPatch, FancyBboxPatch
        from matplotlib.path import Path as MPath
    except ImportError:
        raise ImportError("drawing a graph as PNG, PDF or GIF needs matplotlib: pip install 'tapegrad[plot]'. "
                          "Without it, .svg() and render('graph.svg') draw the same picture") from None
    lay = p.lay
    lr = lay.rankdir == "LR"
    fig = Figure(figsize=(lay.width / 72, lay.height / 72), dpi=dpi)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, lay.width)
    ax.set_ylim(lay.height, 0)
    ax.axis("off")
    for e, pts in zip(p.edges, lay.edges):
        pts = pts[::-1] if e.hot else pts
        verts, codes = [pts[0]], [MPath.MOVETO]
        for _, ctrl in _path(pts, lr):
            verts += ctrl
            codes += [MPath.CURVE4] * 3
        colour, width = (HOT[1], 2.2) if e.hot else ("#555555", 1.1)
        ax.add_patch(FancyArrowPatch(path=MPath(verts, codes), arrowstyle="-|>", mutation_scale=9,
                                     color=colour, linewidth=width, shrinkA=0, shrinkB=0))
    for node, (cx, cy), (nw, nh) in zip(p.nodes, lay.centers, lay.sizes):
        fill, stroke, ink, dash = STYLE.get(node.role, STYLE["value"])
        if node.hot:
            fill, stroke = HOT[0], HOT[1]
        alpha = 0.45 if node.faded else 1.0
        ls = (0, (4, 3)) if dash else "solid"
        lw = 2.4 if node.hot or node.role == "target" else 1.2
        if node.kind == "op":
            patch = Ellipse((cx, cy), nw, nh, facecolor=fill, edgecolor=stroke, linewidth=lw, linestyle=ls,
                            alpha=alpha)
        else:
            patch = FancyBboxPatch((cx - nw / 2, cy - nh / 2), nw, nh, boxstyle="round,pad=0,rounding_size=3",
                                   facecolor=fill, edgecolor=stroke, linewidth=lw, linestyle=ls, alpha=alpha)
        ax.add_patch(patch)
        top = cy - (len(node.lines) - 1) * LINE / 2
        for i, line in enumerate(node.lines):
            ax.text(cx, top + i * LINE, _clip(line), ha="center", va="center", fontsize=FONT, color=ink,
                    alpha=0.5 if node.faded else 1.0, family="sans-serif",
                    fontweight="bold" if i == 0 and node.titled else "normal")
    for e, pts in zip(p.edges, lay.edges):
        if e.label:
            x, y = _mid(pts)
            ax.text(x, y, e.label, ha="center", va="center", fontsize=FONT - 1, fontweight="bold",
                    color=HOT[1] if e.hot else "#333333",
                    bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.9})
    if p.caption:
        ax.text(12, lay.height - 8, p.caption, ha="left", va="baseline", fontsize=FONT, color="#333333")
    return fig


def with_changes(p: Placed, nodes: list[Node], edges: list[Edge], caption: str = "") -> Placed:
    """The same places for changed labels and colours (a replay's frames share one layout)."""
    return replace(p, nodes=nodes, edges=edges, caption=caption or p.caption)


class Picture:
    """A drawing in our own layout: ``svg()`` needs nothing installed; PNG and PDF need matplotlib.

    >>> import tapegrad as tg
    >>> x = tg.Variable(3.0)
    >>> with tg.GradientTape(persistent=True) as tape:
    ...     y = x * x
    >>> tape.replay(y, x).draw(1).svg().startswith("<svg")
    True
    """

    def __init__(self, placed: Placed | None = None) -> None:
        self._placed = placed

    def placed(self) -> Placed:
        assert self._placed is not None
        return self._placed

    def svg(self) -> str:
        """The drawing as SVG text (our own layout; needs nothing installed).

        >>> import tapegrad as tg
        >>> x = tg.Variable(3.0)
        >>> with tg.GradientTape() as tape:
        ...     y = x * x
        >>> "grad 6" in tape.graph(y).svg()
        True
        """
        return to_svg(self.placed())

    def figure(self, dpi: float = 100.0) -> Any:
        """The drawing as a matplotlib Figure (needs matplotlib: ``pip install 'tapegrad[plot]'``).

        >>> import tapegrad as tg
        >>> x = tg.Variable(3.0)
        >>> with tg.GradientTape() as tape:
        ...     y = x * x
        >>> fig = tape.graph(y).figure()  # doctest: +SKIP
        """
        return to_figure(self.placed(), dpi=dpi)

    def pipe(self, format: str = "svg") -> bytes:
        """The drawing as bytes: ``svg`` always, ``png`` and ``pdf`` through matplotlib.

        >>> import tapegrad as tg
        >>> x = tg.Variable(3.0)
        >>> with tg.GradientTape() as tape:
        ...     y = x * x
        >>> tape.graph(y).pipe("svg").startswith(b"<svg")
        True
        """
        if format == "svg":
            return self.svg().encode()
        if format not in ("png", "pdf"):
            raise ValueError(f"tapegrad draws svg, png and pdf, not {format!r}")
        import io

        buf = io.BytesIO()
        self.figure(dpi=150 if format == "png" else 100).savefig(buf, format=format)
        return buf.getvalue()

    def render(self, path: str | Path, format: str | None = None, **options: Any) -> Path:
        """Draw into ``path``; the format comes from its suffix (.svg, .png, .pdf) unless given.

        >>> import os, tempfile, tapegrad as tg
        >>> x = tg.Variable(3.0)
        >>> with tg.GradientTape() as tape:
        ...     y = x * x
        >>> tape.graph(y).render(os.path.join(tempfile.mkdtemp(), "y.svg")).exists()
        True
        """
        from pathlib import Path

        path = Path(path)
        data = self.pipe(format or path.suffix.lstrip(".").lower() or "svg", **options)
        with open_atomic(path, "wb") as f:  # whole or not at all
            f.write(data)
        return path

    def _repr_svg_(self) -> str:  # Jupyter draws it inline, Graphviz or not
        return self.svg()
