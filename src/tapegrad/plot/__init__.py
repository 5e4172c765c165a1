"""Plots of a descent, in plotnine (ggplot) style as the seed post drew them.

Every function takes the run as a ``History`` or as the result ``tg.minimize`` returned (a
run made with ``record=False`` has no history, and plotting it is an error), and returns a
plotnine ``ggplot`` you can extend with ``+`` and write with ``.save(path)``; its ``.data``
is the pandas DataFrame it draws. pandas, plotnine and
matplotlib are imported only when a plot is made (``pip install 'tapegrad[plot]'``).

Any history draws readably: axes span the finite values only (a diverged run's inf and NaN
are left out, and a dashed line or a marker shows where the run left the finite range),
tick labels are short (``1e150``, ``2.5e-5``, never 150 digits), and captions wrap.

>>> import tapegrad as tg
>>> r = tg.minimize(lambda w0: w0 ** 2, 1.0, steps=100)
>>> p = tg.plot.trajectory(r)          # the seed's figure: w0 over epochs
>>> p.labels.title, list(p.data.columns)
('w0 over epochs', ['step', 'w0'])
"""
from .contours import landscape
from .lines import compare, loss, trajectory
from .optstate import state
from .projected import path_slice
from .races import race, race_animation

__all__ = ["compare", "landscape", "loss", "path_slice", "race", "race_animation", "state", "trajectory"]
