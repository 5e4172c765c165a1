"""The descent's layout: small files, layers that import only downward, plots that read History's public API."""
import ast
import pathlib

import tapegrad

PACKAGE = pathlib.Path(tapegrad.__file__).parent
MOST_LINES = 450
# What a History keeps for itself: only history.py (and the recorder, which builds one) may touch it.
HISTORY_PRIVATE = {"_rows", "_index", "_param_names", "_elements", "_final", "_structure", "_of", "_set"}


def _files(*folders):
    return sorted(p for folder in folders for p in (PACKAGE / folder).glob("*.py"))


def _imports(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.module
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module" and node.args \
                and isinstance(node.args[0], ast.Constant):
            yield f"by name: {node.args[0].value}"


def test_no_file_of_the_descent_or_its_plots_is_over_450_lines():
    files = _files("descent", "plot") + [PACKAGE / "cli" / "minimize.py"]
    long = {p.relative_to(PACKAGE).as_posix(): n for p in files if (n := len(p.read_text().splitlines())) > MOST_LINES}
    assert not long, f"split these files (at most {MOST_LINES} lines each): {long}"


def test_the_descent_imports_nothing_above_it():
    for path in _files("descent"):
        above = [m for m in _imports(path) if m.split(": ")[-1].startswith(("tapegrad.plot", "tapegrad.cli"))]
        if path.name == "history.py":  # History.plot: the one place, by name, when a plot is asked for
            assert above == ["by name: tapegrad.plot"], above
        else:
            assert not above, f"{path.name} imports {above}"


def test_plots_and_the_loop_read_history_through_its_public_api():
    for path in _files("plot") + [p for p in _files("descent") if p.name not in ("history.py", "recorder.py")]:
        tree = ast.parse(path.read_text())
        private = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)
                   and node.attr in HISTORY_PRIVATE and getattr(node.value, "id", None) != "self"}
        assert not private, f"{path.relative_to(PACKAGE)} reaches into History: {sorted(private)}"
    for path in _files("plot"):
        assert not [m for m in _imports(path) if m.startswith("tapegrad.descent.")], \
            f"{path.name} imports the descent's modules rather than its public names"
