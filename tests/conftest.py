"""Hypothesis draws the same examples on every run (derandomized), so a run of the suite cannot fail by
luck where the last one passed. To explore new examples, use the profile ``explore``:
``pytest --hypothesis-profile=explore`` (add ``--hypothesis-seed=N`` to repeat one exploration)."""
from tests.optional import has

if has("hypothesis"):
    from hypothesis import settings

    settings.register_profile("repeatable", derandomize=True, database=None)
    settings.register_profile("explore", derandomize=False)
    settings.load_profile("repeatable")
