"""Every public function documents itself with a tiny example, and every example runs."""
import doctest
import importlib
import inspect
import pkgutil

import pytest

import tapegrad
from tests.optional import has

MODULES = sorted(m.name for m in pkgutil.walk_packages(tapegrad.__path__, "tapegrad.")
)


# The namespaces users reach for; their public classes' own methods and properties count too.
NAMESPACES = ["tapegrad", "tapegrad.optimizers", "tapegrad.optimizers.schedules", "tapegrad.plot",
              "tapegrad.autodiff", "tapegrad.testing"]


def _members(cls):
    for name, member in vars(cls).items():
        if name.startswith("_") and name != "__call__":
            continue
        if isinstance(member, property):
            yield name, member.fget
        elif isinstance(member, (classmethod, staticmethod)):
            yield name, member.__func__
        elif inspect.isfunction(member):
            yield name, member


def _public_callables():
    seen = set()
    for namespace in NAMESPACES:
        mod = importlib.import_module(namespace)
        for name in mod.__all__:
            obj = getattr(mod, name)
            if id(obj) in seen or not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            seen.add(id(obj))
            if inspect.isclass(obj) and issubclass(obj, BaseException):
                continue
            yield f"{namespace}.{name}", obj
            if inspect.isclass(obj):
                for member_name, member in _members(obj):
                    if id(member) not in seen:
                        seen.add(id(member))
                        yield f"{namespace}.{name}.{member_name}", member


@pytest.mark.parametrize("name, obj", list(_public_callables()), ids=lambda v: v if isinstance(v, str) else "")
def test_public_api_has_docstring_with_example(name, obj):
    doc = inspect.getdoc(obj) or ""
    assert ">>>" in doc, f"{name} needs a docstring with a tiny example"


PLOTS_INSTALLED = has("pandas") and has("plotnine")
_NEEDS_PLOT_EXTRA = ("plot", "pandas", "to_pandas", "summary()")


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples_run(module):
    mod = importlib.import_module(module)
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(mod, module, globs={}):
        if not PLOTS_INSTALLED and any(w in ex.source for ex in test.examples for w in _NEEDS_PLOT_EXTRA):
            continue  # an example of the plot extra, run where it is installed
        runner.run(test)
    assert runner.failures == 0, f"{runner.failures} docstring example(s) failed in {module}"
