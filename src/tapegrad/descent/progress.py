"""The progress display of a run: tqdm when installed, else a one-line counter on stderr."""
from __future__ import annotations

import math
import os
import sys
import time


class Bar:
    """tqdm when installed, else a one-line counter on stderr; shows step, loss and gradient norm."""

    def __init__(self, steps: int, delay: float) -> None:
        self.tqdm = None
        try:
            if in_notebook():
                from tqdm.auto import tqdm
            else:
                from tqdm import tqdm
            # tqdm draws nothing on a terminal that reports its size as 0 x 0 (some containers, CI runners).
            width = {"ncols": 100, "nrows": 24} if sizeless_terminal() else {}
            self.tqdm = tqdm(total=steps, delay=delay, unit="step", file=sys.stderr, dynamic_ncols=not width,
                             **width)
        except ImportError:
            pass
        self.steps, self.delay = steps, delay
        self.start = time.perf_counter()
        self.last_print = -math.inf
        self.printed = False

    def show(self, k: int, loss: float, gnorm: float, final: bool = False) -> None:
        text = f"loss={loss:.4g}, |g|={gnorm:.3g}"
        if self.tqdm is not None:
            self.tqdm.set_postfix_str(text, refresh=False)
            self.tqdm.update(k - self.tqdm.n)
            return
        now = time.perf_counter()
        if now - self.start >= self.delay and (final or now - self.last_print >= 0.5):
            sys.stderr.write(f"\rstep {k}/{self.steps}  {text}")
            sys.stderr.flush()
            self.last_print, self.printed = now, True

    def close(self, k: int, loss: float, gnorm: float) -> None:
        self.show(k, loss, gnorm, final=self.printed or not self.delay)
        if self.tqdm is not None:
            self.tqdm.close()
        elif self.printed:
            sys.stderr.write("\n")


def progress_bar(progress: bool | None, steps: int) -> Bar | None:
    """The bar ``minimize(progress=...)`` asks for: None for no bar."""
    if progress is False or (progress is None and not interactive()):
        return None
    return Bar(steps, 0.0 if progress else 0.5)


def interactive() -> bool:
    try:
        if sys.stderr is not None and sys.stderr.isatty():
            return True
    except (AttributeError, ValueError):
        pass
    return in_notebook()


def sizeless_terminal() -> bool:
    try:
        return sys.stderr.isatty() and os.get_terminal_size(sys.stderr.fileno()).columns == 0
    except (AttributeError, OSError, ValueError):
        return False


def in_notebook() -> bool:
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython() if hasattr(ipython, "get_ipython") else None
    return type(shell).__name__ == "ZMQInteractiveShell"
