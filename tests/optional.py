"""Optional test dependencies: with them missing, the tests that need them skip, and the rest still run.

``from tests.optional import given, settings, st`` stands in for hypothesis: without it, a
``@given`` test is skipped and strategies are inert placeholders. ``needs("plotnine")`` marks
a test that needs an extra of tapegrad's.
"""
from __future__ import annotations

import importlib.util
from typing import Any

import pytest


def has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def needs(*modules: str) -> Any:
    """A mark that skips the test when one of ``modules`` is not installed."""
    missing = [m for m in modules if not has(m)]
    return pytest.mark.skipif(bool(missing), reason=f"needs {', '.join(missing)} (pip install 'tapegrad[dev]')")


PLOTS = needs("pandas", "plotnine", "matplotlib")

if has("hypothesis"):
    from hypothesis import HealthCheck, assume, given, settings
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
else:
    class _Inert:
        """Any attribute, call or decoration of it gives itself: strategies built at import time do nothing."""

        def __getattr__(self, name: str) -> _Inert:
            return self

        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            return self  # a strategy, or a decorator such as st.composite

        def __or__(self, other: Any) -> _Inert:
            return self

        __ror__ = __or__

    st = hnp = HealthCheck = _Inert()

    def given(*args: Any, **kwargs: Any) -> Any:
        return pytest.mark.skip(reason="needs hypothesis (pip install 'tapegrad[dev]')")

    def settings(*args: Any, **kwargs: Any) -> Any:
        return lambda f: f

    def assume(condition: Any) -> bool:
        return True

__all__ = ["PLOTS", "HealthCheck", "assume", "given", "has", "hnp", "needs", "settings", "st"]
