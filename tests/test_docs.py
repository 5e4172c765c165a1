"""Every public function documents itself with a tiny example, and every example runs."""
import doctest
import importlib
import inspect
import pkgutil

import pytest

import tapegrad

MODULES = sorted(m.name for m in pkgutil.walk_packages(tapegrad.__path__, "tapegrad.")
)


def _public_callables():
    for name in tapegrad.__all__:
        obj = getattr(tapegrad, name)
        if inspect.isfunction(obj) or (inspect.isclass(obj) and not issubclass(obj, BaseException)):
            yield name, obj


@pytest.mark.parametrize("name, obj", list(_public_callables()), ids=lambda v: v if isinstance(v, str) else "")
def test_public_api_has_docstring_with_example(name, obj):
    doc = inspect.getdoc(obj) or ""
    assert ">>>" in doc, f"tapegrad.{name} needs a docstring with a tiny example"


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples_run(module):
    mod = importlib.import_module(module)
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(mod, module, globs={}):
        runner.run(test)
    assert runner.failures == 0, f"{runner.failures} docstring example(s) failed in {module}"
