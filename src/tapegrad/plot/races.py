"""A race drawn: every runner's path over the landscape or its loss curve (``race``), and the runners moving
together as an animation (``race_animation``)."""
from __future__ import annotations

import importlib
import os
import pathlib
import shutil
import subprocess
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from tapegrad._core import nest
from tapegrad._core.tensor import wrap
from tapegrad._files import atomic_path, open_atomic

from .contours import _contours
from .lines import compare
from .style import libraries, theme, tick_labels, wrap_text

if TYPE_CHECKING:
    from tapegrad.descent import RaceResult

__all__ = ["race", "race_animation"]

# One colour per runner, the same in the figure and the animation (matplotlib's tab10, without red: red marks
# what went wrong, as in the other plots).
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


def race(result: RaceResult, kind: str = "paths", resolution: int = 80, levels: int = 15) -> Any:
    """A race as a plotnine figure: ``"paths"`` draws each runner's path over the contours of the function (the
    first two parameters; any others held at the known minimum, or where the first runner ended), ``"loss"``
    the loss curves (``compare``) with the target ``f_min + tol`` dotted. A runner that diverged ends in an x.

    >>> import tapegrad as tg
    >>> r = tg.race("himmelblau", ["sgd", "adam"], steps=50)
    >>> p = tg.plot.race(r)
    >>> sorted(set(p.data["kind"])), p.labels.title
    (['contour', 'end', 'path', 'start'], 'himmelblau: sgd, adam')
    >>> tg.plot.race(r, "loss").labels.title
    'loss over epochs'
    """
    pd, p9 = libraries()
    if kind == "loss":
        figure = compare({r.label: r.result.history for r in result.runners})
        target = None if result.f_min is None else result.f_min + result.tol
        losses = [r.result.history["loss"][np.isfinite(r.result.history["loss"])] for r in result.runners]
        everything = np.concatenate(losses)
        log = bool((everything >= 0).all()) and bool((everything > 0).any())
        if target is not None and (target > 0 or not log):
            figure += p9.geom_hline(yintercept=target, linetype="dotted")
        notes = [result.caption()]
        starts = [v[0] for v in losses if v.size]
        if log and starts and everything.max() > 1e3 * max(starts):
            # A run that blew up to 1e100 would flatten every other curve into the bottom edge.
            positive = everything[everything > 0]
            top = 1e3 * max(starts)
            figure += p9.coord_cartesian(xlim=(0, max(len(r.result.history) for r in result.runners) - 1),
                                         ylim=(positive.min() / 2, top))
            away = [r.label for r, v in zip(result.runners, losses) if v.size and v.max() > top]
            notes.append(f"the view ends 1000 times above the start; {', '.join(away)} went past it")
        return figure + p9.labs(caption=wrap_text("; ".join(notes))) \
            + p9.scale_color_manual(values=_colours(len(result.runners)))
    if kind != "paths":
        raise ValueError(f"unknown race plot {kind!r}; use 'paths' or 'loss'")
    scene = Scene(result, resolution)
    frames = [scene.contour_lines(pd, levels)]
    (x0, x1), (y0, y1) = scene.spans
    for label, (px, py, _) in scene.paths.items():
        frames.append(pd.DataFrame({"kind": "path", "x": px, "y": py, "runner": label}))
        # The end marker sits on the last point in view: a run that left it (diverging) shows where it left.
        inside = np.flatnonzero((px >= x0) & (px <= x1) & (py >= y0) & (py <= y1))
        last = int(inside[-1]) if inside.size else len(px) - 1
        end = "diverged" if scene.diverged[label] else "end" if last == len(px) - 1 else "left the view"
        frames.append(pd.DataFrame({"kind": "end", "x": px[last:last + 1], "y": py[last:last + 1], "runner": label,
                                    "label": end}))
    start = next(iter(scene.paths.values()))
    frames.append(pd.DataFrame({"kind": "start", "x": start[0][:1], "y": start[1][:1], "label": "start"}))
    data = pd.concat(frames, ignore_index=True)
    data["runner"] = pd.Categorical(data["runner"], categories=list(scene.paths))
    shapes = {"start": "s", "end": "o", "diverged": "x", "left the view": ">"}
    return (p9.ggplot(data, p9.aes(x="x", y="y"))
            + p9.geom_path(p9.aes(group="group"), data=lambda d: d[d["kind"] == "contour"], color="#b8b8b8",
                           size=0.4)
            + p9.geom_path(p9.aes(color="runner"), data=lambda d: d[d["kind"] == "path"], size=0.8)
            + p9.geom_point(p9.aes(shape="label"), data=lambda d: d[d["kind"] == "start"], size=3)
            + p9.geom_point(p9.aes(color="runner", shape="label"), data=lambda d: d[d["kind"] == "end"], size=3)
            + p9.scale_color_manual(values=_colours(len(scene.paths)))
            + p9.scale_shape_manual(values=shapes)
            + p9.scale_x_continuous(labels=tick_labels) + p9.scale_y_continuous(labels=tick_labels)
            + p9.coord_cartesian(xlim=(x0, x1), ylim=(y0, y1), expand=False)
            + p9.labs(title=f"{result.name}: {', '.join(scene.paths)}", x=scene.names[0], y=scene.names[1],
                      color="", shape="", subtitle=wrap_text(scene.note),
                      caption=wrap_text(result.caption()))
            + theme(p9))


def race_animation(result: RaceResult, path: str | os.PathLike, frames: int = 120, fps: int = 20, dpi: int = 80,
                   resolution: int = 80, levels: int = 15) -> pathlib.Path:
    """The runners moving together: their paths over the contours and their loss curves growing, step by step,
    written to ``path`` whole or not at all: ``.gif`` (Pillow, which matplotlib brings) or ``.mp4`` (needs
    ffmpeg). At most ``frames`` frames: a longer race shows every k-th step, and the last frame is held.

    >>> import os, tempfile, tapegrad as tg
    >>> r = tg.race("booth", ["sgd", "adam"], steps=30)
    >>> tg.plot.race_animation(r, os.path.join(tempfile.mkdtemp(), "race.gif"), frames=3).suffix
    '.gif'
    """
    path = pathlib.Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".gif", ".mp4"):
        raise ValueError(f"race_animation writes .gif or .mp4 files; {path.name!r} has neither: e.g. race.gif")
    ffmpeg = shutil.which("ffmpeg") if suffix == ".mp4" else None
    if suffix == ".mp4" and ffmpeg is None:
        raise RuntimeError("writing an .mp4 needs ffmpeg on the PATH, which is not there; install ffmpeg, or "
                           "write a .gif instead")
    for name, value, least in (("frames", frames, 2), ("fps", fps, 1), ("dpi", dpi, 10)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
            raise ValueError(f"{name} must be a whole number >= {least}, got {value!r}")
    libraries()
    images = _render(Scene(result, resolution), result, int(frames), int(dpi), levels)
    if suffix == ".mp4":
        with atomic_path(path, ".mp4") as tmp:
            h, w, _ = images[0].shape
            even = np.stack([np.pad(im, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge") for im in images])
            subprocess.run([ffmpeg, "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s",
                            f"{w + w % 2}x{h + h % 2}", "-r", str(fps), "-i", "-", "-pix_fmt", "yuv420p", tmp],
                           input=even.tobytes(), check=True)
        return path
    image = importlib.import_module("PIL.Image")
    # One palette for every frame, taken from the last (which holds every colour): frames that differ only
    # where the paths moved compress to those few pixels.
    palette = image.fromarray(images[-1]).quantize(colors=64, method=image.Quantize.MEDIANCUT)
    pictures = [image.fromarray(im).quantize(palette=palette, dither=image.Dither.NONE) for im in images]
    ms = max(20, round(1000 / fps))
    with open_atomic(path, "wb") as f:
        pictures[0].save(f, format="GIF", save_all=True, append_images=pictures[1:], loop=0,
                         duration=[ms] * (len(pictures) - 1) + [2000])
    return path


class Scene:
    """What both pictures draw: the two parameters, the view, the function on a grid, each runner's path."""

    def __init__(self, result: RaceResult, resolution: int) -> None:
        first = result.runners[0].result.history
        if first.structure is None or first.final is None:
            raise ValueError("the race's histories do not know how fn takes its parameters")
        columns = [c for c in first.param_columns if first.element(c) is not None]
        if len(columns) < 2:
            raise ValueError(f"a race's paths are drawn over two parameters; this function has {len(columns)} "
                             f"({', '.join(columns)}): draw the loss curves instead, race.plot('loss')")
        self.names = columns[:2]
        known = getattr(result.fn, "minima", None)
        base = dict(first.final)
        where = [first.element(n) for n in self.names]
        if known and len(first.final) == 1 and np.shape(known[0]) == np.shape(next(iter(base.values()))):
            base = {next(iter(base)): np.array(known[0], copy=True)}
            held = "the known minimum"
        else:
            held = f"where {result.runners[0].label} ended"
        self.note = None
        if len(columns) > 2 or len(first.final) > 2:
            self.note = f"slice through {', '.join(self.names)}; the other parameters at {held}"
        self.paths: dict[str, tuple[Any, Any, Any]] = {}
        self.diverged: dict[str, bool] = {}
        for r in result.runners:
            h = r.result.history
            px, py, loss = h[self.names[0]], h[self.names[1]], h["loss"]
            keep = np.isfinite(px) & np.isfinite(py) & np.isfinite(loss)
            self.paths[r.label] = (px[keep], py[keep], loss)
            self.diverged[r.label] = r.diverged
        window = getattr(result.fn, "window", None)
        if window is not None and [w[0] for w in where] == [next(iter(base))] * 2 and [w[1] for w in where] == [0, 1]:
            self.spans = [tuple(map(float, s)) for s in window]
        else:
            self.spans = _spans(list(self.paths.values()))
        self.xs, self.ys = (np.linspace(lo, hi, resolution) for lo, hi in self.spans)
        self.z = _grid(result.fn, first.structure, base, where, self.xs, self.ys)

    def contour_lines(self, pd: Any, levels: int) -> Any:
        lines = _contours(pd, self.xs, self.ys, self.z, levels)
        return lines.assign(runner=None, label=None)

    def levels(self, count: int) -> Any:
        finite = self.z[np.isfinite(self.z)]
        return np.unique(np.quantile(finite, np.linspace(0, 1, count + 2)[1:-1])) if finite.size else []


def _colours(count: int) -> list[str]:
    return [COLOURS[i % len(COLOURS)] for i in range(count)]


def _spans(paths: list[tuple[Any, Any, Any]]) -> list[tuple[float, float]]:
    """The view around every runner's path (a diverging run's far points left out), with a 20% margin."""
    spans = []
    for axis in (0, 1):
        values = []
        for p in paths:
            loss = p[2][np.isfinite(p[2])]
            limit = loss[0] + 100 * max(abs(loss[0]), loss[0] - loss.min()) if loss.size else np.inf
            near = np.flatnonzero(loss > limit)
            values.append(p[axis][: near[0] if near.size else None])
        v = np.concatenate(values)
        lo, hi = float(v.min()), float(v.max())
        margin = 0.2 * (hi - lo) if hi > lo else 0.5 * max(abs(lo), 1.0)
        spans.append((lo - margin, hi + margin))
    return spans


def _grid(fn: Callable[[Any], Any], structure: Any, base: dict[str, Any], where: list[Any], xs: Any, ys: Any) -> Any:
    """fn on the grid xs by ys (the two drawn elements set, the rest at ``base``): in one call when fn works
    elementwise on arrays of points (checked at a few points against single calls), else point by point."""
    gx, gy = np.meshgrid(xs, ys)

    def call(leaves: dict[str, Any]) -> Any:
        out = fn(nest.map_structure(lambda n: wrap(leaves[n]), structure))
        return np.asarray(getattr(out, "_value", out), dtype=np.float64)

    def one(x: float, y: float) -> float:
        leaves = {n: np.array(b, dtype=np.float64, copy=True) for n, b in base.items()}
        for (name, i), value in zip(where, (x, y)):
            leaves[name].reshape(-1)[i] = value
        return float(call({n: v if v.ndim else v[()] for n, v in leaves.items()}).reshape(()))

    with np.errstate(all="ignore"):
        try:
            leaves = {}
            for name, b in base.items():
                b = np.asarray(b, dtype=np.float64)
                drawn = [(i, g) for (n, i), g in zip(where, (gx, gy)) if n == name]
                if drawn:
                    b = np.broadcast_to(b.reshape(*b.shape, 1, 1), (*b.shape, *gx.shape)).copy()
                    for i, g in drawn:
                        b.reshape(-1, *gx.shape)[i] = g
                leaves[name] = b
            z = call(leaves)
            probes = [(0, 0), (len(ys) // 2, len(xs) // 3), (len(ys) - 1, len(xs) - 1)]
            if z.shape == gx.shape and all(np.allclose(z[j, i], one(xs[i], ys[j]), rtol=1e-6, atol=1e-12,
                                                       equal_nan=True) for j, i in probes):
                return z
        except Exception:  # noqa: S110  (fn does not take arrays of points: evaluate it point by point)
            pass
        return np.array([[one(x, y) for x in xs] for y in ys])


def _render(scene: Scene, result: RaceResult, frames: int, dpi: int, levels: int) -> list[Any]:
    """The frames as RGB arrays. The contours, axes and legend are drawn once; each frame redraws only the
    moving lines and the step counter over that background."""
    lines = importlib.import_module("matplotlib.lines")
    figure_module = importlib.import_module("matplotlib.figure")
    backend = importlib.import_module("matplotlib.backends.backend_agg")
    colors = importlib.import_module("matplotlib.colors")
    # Fixed margins: a layout engine would measure every contour line's extent, slower than all the frames.
    fig = figure_module.Figure(figsize=(9.6, 4), dpi=dpi)
    backend.FigureCanvasAgg(fig)
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.1, 1], "left": 0.07, "right": 0.84,
                                                  "bottom": 0.13, "top": 0.9, "wspace": 0.28})
    lv = scene.levels(levels)
    if len(lv):
        positive = lv[0] > 0 and lv[-1] / lv[0] > 100
        left.contour(scene.xs, scene.ys, np.ma.masked_invalid(scene.z), levels=lv, cmap="viridis", linewidths=0.6,
                     norm=colors.LogNorm() if positive else None)
    left.set(xlim=scene.spans[0], ylim=scene.spans[1], xlabel=scene.names[0], ylabel=scene.names[1],
             title=result.name)
    start = next(iter(scene.paths.values()))
    left.plot(start[0][:1], start[1][:1], "ks", ms=5)
    # Against a known minimum the gap to it shows best on a log scale, however small it gets.
    shift = result.f_min if result.f_min is not None and np.isfinite(result.f_min) else 0.0
    curves = {label: p[2] - shift for label, p in scene.paths.items()}
    values = np.concatenate(list(curves.values()))
    values = values[np.isfinite(values)]
    log = bool(values.size) and bool((values >= 0).all()) and bool((values > 0).any())
    top = max(len(c) for c in curves.values()) - 1
    label = ("loss - f*" if shift else "loss") + (" (log scale)" if log else "")
    right.set(xlim=(0, max(top, 1)), xlabel="step", ylabel=label, yscale="log" if log else "linear", title="loss")
    if log:
        positive = values[values > 0]
        right.set_ylim(max(positive.min(), positive.max() * 1e-16) / 3, positive.max() * 3)
    elif values.size:
        lo, hi = float(values.min()), float(values.max())
        pad = 0.05 * (hi - lo) if hi > lo else 0.5
        right.set_ylim(lo - pad, hi + pad)
    moving = []
    for (label, (px, py, _)), colour in zip(scene.paths.items(), _colours(len(scene.paths))):
        loss = curves[label]
        steps = np.flatnonzero(np.isfinite(loss))
        path_line, = left.plot([], [], color=colour, lw=1.6, label=label, animated=True)
        head, = left.plot([], [], "o", color=colour, ms=5, animated=True)
        curve, = right.plot([], [], color=colour, lw=1.4, animated=True)
        moving.append((path_line, head, curve, px, py, steps, loss, scene.diverged[label]))
    handles = [lines.Line2D([], [], color=c, lw=2) for c in _colours(len(scene.paths))]
    fig.legend(handles, list(scene.paths), loc="center right", fontsize="small", frameon=False)
    counter = right.text(0.02, 0.03, "", transform=right.transAxes, animated=True)
    fig.canvas.draw()
    background = fig.canvas.copy_from_bbox(fig.bbox)
    shown = np.unique(np.round(np.linspace(0, top, min(frames, top + 1))).astype(int))
    images = []
    for k in shown:
        fig.canvas.restore_region(background)
        for path_line, head, curve, px, py, steps, loss, diverged in moving:
            n = int(np.searchsorted(steps, k, side="right"))  # the finite rows up to step k
            path_line.set_data(px[:n], py[:n])
            head.set_data(px[n - 1:n], py[n - 1:n])
            head.set_marker("x" if diverged and k >= steps[-1] and n == len(px) else "o")
            curve.set_data(steps[:n], loss[steps[:n]])
            for artist, ax in ((path_line, left), (head, left), (curve, right)):
                ax.draw_artist(artist)
        counter.set_text(f"step {k}")
        right.draw_artist(counter)
        images.append(np.asarray(fig.canvas.buffer_rgba())[..., :3].copy())
    return images
