"""``tapegrad demo``: the seed blog post, section by section, run on tapegrad.

The blog computes derivatives with ``tf.GradientTape``, then writes gradient descent by
hand: 10,000 epochs on y = w0**2 with learning rate 0.01, and a plot of w0 over epochs.
Every number printed here is computed as the demo runs; the code is the blog's, in float32
as there.
"""
from __future__ import annotations

import argparse
import os
import sys
import textwrap
from typing import Any, NamedTuple

import numpy as np

import tapegrad as tg

from ._common import UsageError, files_written, missing_extra, output_file, save_plot

HELP = "the seed blog post end to end: derivatives, a 10,000-epoch descent and its plot"
DESCRIPTION = """\
Run the blog post tapegrad grew from ("gradient descent from scratch" on tf.GradientTape),
section by section: first and second derivatives with the expression, the point and the
result, then 10,000 epochs of gradient descent on y = w0**2 with a progress bar. Writes
w0_over_epochs.csv and w0_over_epochs.png (the blog's plot) into DIR."""
EPILOG = """\
examples:
  tapegrad demo                       # writes into ./tapegrad-demo
  tapegrad demo --out /tmp/seed       # writes into /tmp/seed (created if needed)

exit status: 0 success, 1 the descent or writing its files failed, 2 bad usage (DIR cannot
be created or written: checked before the run), 130 interrupted (Ctrl-C; each file is whole
or not written, and the message says which)"""

EPOCHS = 10_000
LEARNING_RATE = 0.01
TF_FINAL_W0 = "5.803526e-37"  # what the blog's TensorFlow printed (denormals flushed to zero)


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("demo", help=HELP, description=DESCRIPTION, epilog=EPILOG,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", metavar="DIR", default="tapegrad-demo",
                   help="the folder to write w0_over_epochs.csv and .png into (default: tapegrad-demo, created "
                        "if needed)")
    p.set_defaults(run=run)


class Section(NamedTuple):
    """One section of the blog: what is differentiated, where, and the results (None explained)."""

    title: str
    expression: str
    point: str
    results: list[tuple[str, Any]]  # (label, tensor or None)
    why: str | None = None

    def lines(self) -> list[str]:
        width = max(len(label) for label, _ in self.results)
        out = [self.title, f"    y = {self.expression}   at {self.point}"]
        out += [f"    {label:<{width}} = {'None' if v is None else v.numpy()}" for label, v in self.results]
        if self.why:
            out.append(textwrap.fill(self.why, width=100, initial_indent="    why: ", subsequent_indent="         "))
        return out


def derivatives() -> list[Section]:
    """The blog's sections 1 and 2, run on tapegrad.

    >>> from tapegrad.cli.demo import derivatives
    >>> [str(v.numpy()) for _, v in derivatives()[0].results]
    ['200.0']
    """
    sections = []

    x, b = tg.constant(100.0), tg.constant(10.0)
    with tg.GradientTape() as tape:
        tape.watch(x)
        y = x**2 + b
    sections.append(Section("1.1 First derivative of one variable (a constant, watched with tape.watch)",
                            "x**2 + b", "x = 100, b = 10", [("dy/dx", tape.gradient(y, x))]))

    x, b = tg.constant(20.0), tg.constant(10.0)
    with tg.GradientTape(persistent=True) as tape:
        tape.watch(x)
        tape.watch(b)
        y = x**2 + b**2
    sections.append(Section("1.2 First derivatives of two variables (a persistent tape, for two gradient calls)",
                            "x**2 + b**2", "x = 20, b = 10",
                            [("dy/dx", tape.gradient(y, x)), ("dy/db", tape.gradient(y, b))]))

    with tg.GradientTape(persistent=True) as tape:
        y = x**2 + b**2
    dx, db = tape.gradient(y, [x, b])
    sections.append(Section("1.3.1 The same with constants nobody watched", "x**2 + b**2",
                            "x = 20, b = 10 (tg.constant, no tape.watch)", [("dy/dx", dx), ("dy/db", db)],
                            "a tape records only operations on watched tensors, and a constant is watched only "
                            "after tape.watch(x); use tape.watch, or a tg.Variable"))

    x, b = tg.Variable(20.0), tg.Variable(10.0)
    with tg.GradientTape(persistent=True) as tape:
        y = x**2 + b**2
    dx, db = tape.gradient(y, [x, b])
    sections.append(Section("1.3.2 The same with Variables, watched automatically", "x**2 + b**2",
                            "x = 20, b = 10 (tg.Variable)", [("dy/dx", dx), ("dy/db", db)]))

    with tg.GradientTape(persistent=True) as tape2:
        with tg.GradientTape(persistent=True) as tape1:
            y = x**2 + b**2
    dy_dx = tape1.gradient(y, x)
    sections.append(Section("2.1 Second derivative, first gradient taken after the outer tape closed",
                            "x**2 + b**2", "x = 20, b = 10",
                            [("dy/dx", dy_dx), ("d2y/dx2", tape2.gradient(dy_dx, x))],
                            "dy/dx was computed after tape2's `with` block ended, so tape2 never recorded it; "
                            "take the first gradient inside the outer tape (indent it one level)"))

    with tg.GradientTape(persistent=True) as tape2:
        with tg.GradientTape(persistent=True) as tape1:
            y = x**2 + b**2
        dy_dx = tape1.gradient(y, x)
    sections.append(Section("2.2 Second derivative, first gradient taken inside the outer tape", "x**2 + b**2",
                            "x = 20, b = 10", [("dy/dx", dy_dx), ("d2y/dx2", tape2.gradient(dy_dx, x))]))

    x = tg.Variable([-3, -2, -1, 0, 1, 2, 3], dtype=tg.float32)
    with tg.GradientTape(persistent=True) as tape2:
        with tg.GradientTape(persistent=True) as tape1:
            y = tg.math.square(x)
        dy_dx = tape1.gradient(y, x)
    sections.append(Section("2.3 First and second derivatives of an array, element by element", "square(x)",
                            f"x = {x.numpy()}", [("dy/dx", dy_dx), ("d2y/dx2", tape2.gradient(dy_dx, x))]))
    return sections


def descent() -> Any:
    """The blog's section 3: y = w0**2, w0 <- w0 - 0.01 * dy/dw0, 10,000 epochs from w0 = 1.0 (float32)."""
    w0 = tg.Variable(1.0, name="w0")
    # 10,000 steps take a fraction of a second: show the bar in a terminal anyway (it is part of the demo).
    return tg.minimize(lambda w: tg.math.square(w), w0, optimizer="sgd", learning_rate=LEARNING_RATE,
                       steps=EPOCHS, progress=True if sys.stderr.isatty() else None)


def run(args: argparse.Namespace) -> int:
    out = args.out
    paths = _check_out(out)
    print('tapegrad demo: the blog post "gradient descent from scratch" (on tf.GradientTape), run on tapegrad.')
    print("Its code runs unchanged with `import tapegrad as tf`; here is what each section computes.")
    for section in derivatives():
        print("\n" + "\n".join(section.lines()))

    print(f"\n3. Gradient descent on y = w0**2: w0 <- w0 - {LEARNING_RATE} * dy/dw0, {EPOCHS:,} epochs from w0 = 1.0 "
          "(float32)")
    sys.stdout.flush()  # the progress bar goes to stderr
    result = descent()
    if result.status == "interrupted":
        print(f"tapegrad demo: interrupted (Ctrl-C) during the descent; {_which(paths, [])}", file=sys.stderr)
        return 130
    if result.status not in ("max_steps", "converged"):
        print(f"    the descent stopped early ({result.status}): {result.message}", file=sys.stderr)
        return 1
    final = np.float32(result.x)
    print(f"    w0 after {result.steps:,} epochs = {final:.6e}")
    print(f"    (TensorFlow printed {TF_FINAL_W0} here: it flushes float32 denormals to zero, which freezes w0 once "
          f"each step is below 1.2e-38; exact IEEE float32 continues to {final:.6e}.)")

    written: list[str] = []
    try:
        result.history.to_csv(paths["csv"])
        written.append("csv")
        print(f"    wrote {paths['csv']} (every epoch: w0, loss, gradient norm, ...)")
        try:
            from tapegrad import plot

            save_plot(plot.trajectory(result.history, param="w0"), paths["png"])
        except ImportError as e:
            print(f"    {missing_extra(e, paths['png'])}", file=sys.stderr)
            return 1
        written.append("png")
        print(f"    wrote {paths['png']} (the blog's plot: w0 over epochs)")
    except KeyboardInterrupt:  # each file is whole or as it was: say which were written
        print(f"tapegrad demo: interrupted (Ctrl-C) while writing the files; {_which(paths, written)}",
              file=sys.stderr)
        return 130
    except OSError as e:  # the folder was checked; it can still fill up or go away during the run
        print(f"tapegrad demo: error: could not write the files: {e.strerror or e}; {_which(paths, written)}",
              file=sys.stderr)
        return 1
    return 0


def _which(paths: dict[str, str], written: list[str]) -> str:
    return files_written([paths[k] for k in written], [p for k, p in paths.items() if k not in written])


def _check_out(out: str) -> dict[str, str]:
    """Make the folder and check that both files can be written there, before the run; the two paths."""
    if not out.strip():
        raise UsageError("--out was given an empty folder name; give a folder, e.g. --out tapegrad-demo")
    if os.path.exists(out) and not os.path.isdir(out):
        raise UsageError(f"--out {out}: this is a file, not a folder; give a folder to write into")
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as e:
        raise UsageError(f"--out {out}: could not create this folder ({e.strerror}); give a folder you can write "
                         "into") from None
    paths = {kind: os.path.join(out, f"w0_over_epochs.{kind}") for kind in ("csv", "png")}
    for kind, path in paths.items():
        output_file(path, "--out", f"w0_over_epochs.{kind}")
    return paths
