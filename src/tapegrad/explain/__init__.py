"""Seeing inside a gradient: ``tape.explain(target, sources)`` says why each gradient is what it is (above
all why it is None); ``tape.graph(target)`` draws what the tape recorded; ``tape.replay(target, sources)``
walks the backward pass one rule at a time.

All three are installed on ``GradientTape`` here, from above: the tape knows nothing of them.

>>> import tapegrad as tg
>>> x = tg.constant(3.0)
>>> with tg.GradientTape() as tape:
...     y = x * x
>>> tape.explain(y, x).causes
['not_watched']
"""
from tapegrad.tape import GradientTape

from .causes import Explanation, Reason, explain
from .graph import Graph, graph
from .replay import Replay, Step, replay

GradientTape.explain = explain  # type: ignore[attr-defined]
GradientTape.graph = graph  # type: ignore[attr-defined]
GradientTape.replay = replay  # type: ignore[attr-defined]

__all__ = ["Explanation", "Graph", "Reason", "Replay", "Step", "explain", "graph", "replay"]
