"""What the subcommands share: NAME=VALUE arguments, the expression, number formatting, output files."""
from __future__ import annotations

import json
import math
import os
import stat
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tapegrad._files import atomic_path, probe_folder

from .expr import Expression, ExpressionError, parse


class UsageError(Exception):
    """The command line asks for something impossible: exit code 2, with this message."""


def assignments(items: Sequence[str], option: str) -> dict[str, float]:
    """``["x=20", "b=pi/2"]`` -> ``{"x": 20.0, "b": 1.5707963267948966}``; values are constant expressions.

    >>> from tapegrad.cli._common import assignments
    >>> assignments(["x=-1.2", "y=2**-1"], "--init")
    {'x': -1.2, 'y': 0.5}
    """
    values: dict[str, float] = {}
    for item in items:
        name, eq, text = item.partition("=")
        name = name.strip()
        if not eq or not name or not text.strip():
            raise UsageError(f"{option} takes NAME=VALUE pairs such as x=20, not {item!r}"
                             + (" (put the expression before the options)" if not eq else ""))
        if name in values:
            raise UsageError(f"{option} gives {name} twice")
        try:
            parse("0", variables=[name])  # the rules for names: not a function, a constant, or reserved
            value = parse(text, variables=())({})
        except ExpressionError as e:
            if e.start is None:
                raise ExpressionError(f"{option} {item}: {e.message}") from None
            shift = len(item) - len(text)
            raise ExpressionError(f"{option} {name}: {e.message}", item, e.start + shift,
                                  None if e.end is None else e.end + shift) from None
        values[name] = float(value)
    return values


def expression(text: str, names: Sequence[str], option: str) -> Expression:
    """The parsed expression, which must use exactly the variables given with ``option``."""
    expr = parse(text, variables=names)
    unused = [n for n in names if n not in expr.variables]
    if unused:
        listed = ", ".join(unused)
        raise UsageError(f"{listed} {'is' if len(unused) == 1 else 'are'} given with {option} but the expression "
                         f"does not use {'it' if len(unused) == 1 else 'them'}; check the spelling, or leave "
                         f"{'it' if len(unused) == 1 else 'them'} out")
    return expr


def number(v: Any) -> str:
    """A float for people: 12 significant digits, no trailing zeros.

    >>> from tapegrad.cli._common import number
    >>> number(40.0), number(1 / 3), number(-2.5e-12), number(-0.0), number(float("nan"))
    ('40', '0.333333333333', '-2.5e-12', '0', 'nan')
    """
    return format(float(v) + 0.0, ".12g")  # + 0.0: no "-0"


def json_number(v: Any) -> float | None:
    """A float for JSON, where inf and nan do not exist: they become null."""
    v = float(v) + 0.0  # -0.0 -> 0.0
    return v if math.isfinite(v) else None


def json_text(record: dict[str, Any]) -> str:
    """A JSON object with one key per line and each value on that line: readable, and still JSON.

    >>> from tapegrad.cli._common import json_text
    >>> print(json_text({"wrt": ["x", "y"], "hessian": [[2.0, 0.0], [0.0, 2.0]]}))
    {
      "wrt": ["x", "y"],
      "hessian": [[2.0, 0.0], [0.0, 2.0]]
    }
    """
    return "{\n" + ",\n".join(f"  {json.dumps(k)}: {json.dumps(v, allow_nan=False)}" for k, v in record.items()) \
        + "\n}"


def point(values: dict[str, float]) -> str:
    """``x = 20, b = 10``."""
    return ", ".join(f"{k} = {number(v)}" for k, v in values.items())


def table(rows: Sequence[str], cols: Sequence[str], data: Any, indent: str = "  ") -> list[str]:
    """A matrix as text lines, with row and column headers, numbers right-aligned."""
    cells = [[number(v) for v in row] for row in np.asarray(data, dtype=float)]
    width = max([len(c) for c in cols] + [len(c) for row in cells for c in row])
    head = max(len(r) for r in rows)
    lines = [indent + " " * head + "".join(f"  {c:>{width}}" for c in cols)]
    for r, row in zip(rows, cells):
        lines.append(indent + f"{r:<{head}}" + "".join(f"  {c:>{width}}" for c in row))
    return lines


# What --plot and --landscape can write: the formats matplotlib saves with its own backends and Pillow (which
# it requires), in every version the plot extra allows (>= 3.7); tests/cli checks them against matplotlib's
# list. Listed here so that a bad name is refused before the run without importing matplotlib (half a
# second). Left out: pgf (needs LaTeX), raw and rgba (pixel buffers, not image files), and gif and avif
# (only in recent versions).
IMAGE_FORMATS = ("png", "svg", "pdf", "jpg", "jpeg", "tif", "tiff", "webp", "eps", "ps", "svgz")


def output_file(path: str | None, option: str, example: str, formats: Sequence[str] | None = None) -> str | None:
    """Check before a long run that ``path`` can be written, so no result is lost at the end.

    ``example`` is a file name to suggest (``steps.csv``); ``formats``, if given, are the extensions
    allowed, which is how matplotlib picks the format.

    >>> from tapegrad.cli._common import IMAGE_FORMATS, output_file
    >>> output_file("w.png", "--plot", "plot.png", IMAGE_FORMATS)
    'w.png'
    >>> output_file("w", "--plot", "plot.png", IMAGE_FORMATS)
    Traceback (most recent call last):
    tapegrad.cli._common.UsageError: --plot w: the name has no extension, ...; add one, e.g. w.png (formats: ...)
    """
    if path is None:
        return None
    if not path.strip():  # argparse takes --csv '' as a name; it would be skipped without a word
        raise UsageError(f"{option} was given an empty file name; give a name, e.g. {option} {example}")
    separators = tuple(s for s in (os.sep, os.altsep) if s)
    if os.path.isdir(path) or path.endswith(separators):
        folder = path.rstrip("".join(separators)) or path  # "/" stays "/"
        create = "" if os.path.isdir(path) else f" (and create the folder {folder} first)"
        raise UsageError(f"{option} {path} names a folder; give a file name, e.g. "
                         f"{os.path.join(folder, example)}{create}")
    if formats is not None:
        root, ext = os.path.splitext(path)
        ext = ext[1:].lower()  # matplotlib reads OUT.PNG as png
        if ext not in formats:
            listed = " ".join("." + f for f in formats)
            suggestion = root + os.path.splitext(example)[1]
            what = ("the name has no extension, which gives the image format; add one" if not ext else
                    f".{ext} is not an image format that can be written; use another")
            raise UsageError(f"{option} {path}: {what}, e.g. {suggestion} (formats: {listed})")
    real = os.path.realpath(path)  # a link stays a link: the file it points to is the one replaced
    try:
        st: os.stat_result | None = os.stat(real)
    except FileNotFoundError:
        st = None
    except OSError as e:  # e.g. a/b where a is a file
        raise UsageError(f"{option} {path}: {e.strerror}; give another file name") from None
    if st is not None and not stat.S_ISREG(st.st_mode):
        # A FIFO would hang the end of the run until something reads it; a device would be replaced by the file.
        raise UsageError(f"{option} {path} is {_kind(st.st_mode)}, not a regular file; each output is written "
                         f"as a whole new file: give a file name, e.g. {example}")
    folder = os.path.dirname(real)
    if not os.path.isdir(folder):
        raise UsageError(f"{option} {path}: the folder {folder} does not exist; create it first")
    if st is not None and not os.access(real, os.W_OK):  # open(path, "w") would refuse it
        raise UsageError(f"{option} {path}: the file is not writable")
    try:
        probe_folder(real)  # a temporary file goes beside it; os.access says yes to root on a read-only disk
    except OSError as e:
        raise UsageError(f"{option} {path}: cannot write in the folder {folder} ({e.strerror})") from None
    return path


def _kind(mode: int) -> str:
    """What a file that is not a regular file is, in words."""
    for test, words in ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
                        (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return words
    return "not a regular file"


def save_plot(figure: Any, path: str) -> None:
    """``figure.save(path)``, whole or not at all: the temporary keeps the extension, which gives the format."""
    with atomic_path(path, os.path.splitext(path)[1]) as tmp:
        figure.save(tmp, verbose=False)


def files_written(done: Sequence[str], left: Sequence[str]) -> str:
    """After an interruption: which files were written, and which were not (and are as they were before).

    >>> from tapegrad.cli._common import files_written
    >>> files_written(["--csv a.csv"], ["--plot b.png"])
    'wrote --csv a.csv; not written: --plot b.png (an older file of that name is left as it was)'
    """
    parts = (["wrote " + ", ".join(done)] if done else []) + \
        (["not written: " + ", ".join(left) + " (an older file of that name is left as it was)"] if left else [])
    return "; ".join(parts) or "no files were asked for"


def same_files(files: dict[str, str | None]) -> None:
    """Refuse two options naming one file: the second would overwrite the first at the end of the run."""
    seen: dict[str, str] = {}
    for option, path in files.items():
        if path is None:
            continue
        key = os.path.normcase(os.path.realpath(path))
        if key in seen:
            raise UsageError(f"{seen[key]} and {option} both name {path}; give each its own file")
        seen[key] = option


def missing_extra(error: ImportError, what: str) -> str:
    """Why ``what`` could not be made, and the install command (once, if the error does not give it)."""
    text = f"could not draw {what}: {error}"
    return text if "pip install" in text else text + ". Install the plotting extras: pip install 'tapegrad[plot]'"


def write_outputs(files: dict[str, str | None], write: Callable[[str, str], None],
                  written: dict[str, str]) -> list[str]:
    """Write each file asked for with ``write(kind, path)``, whole or not at all, into ``written`` as it is done;
    return why any failed.

    A file that fails (no plotting extras, a full disk, a folder removed during the run) does not stop
    the others: the run is over and each file is what is left of it.

    >>> from tapegrad.cli._common import write_outputs
    >>> written = {}
    >>> write_outputs({"csv": None, "plot": "p.png"}, lambda kind, path: None, written), written
    ([], {'plot': 'p.png'})
    """
    failed = []
    for kind, path in files.items():
        if path is None:
            continue
        try:
            write(kind, path)
        except ImportError as e:
            failed.append(missing_extra(e, f"--{kind} {path}"))
        except OSError as e:
            folder = os.path.dirname(os.path.abspath(path))
            why = (e.strerror or str(e)) if os.path.isdir(folder) else f"the folder {folder} no longer exists"
            failed.append(f"could not write --{kind} {path}: {why}")
        else:
            written[kind] = path
    return failed
