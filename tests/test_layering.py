"""Guard rails: layers import only downward, no module takes another's private names, no file grows too long.

The layers, bottom first (README's "Architecture" draws them): a module may import from its
own layer and the layers below it, never above, including imports inside functions.
"""
import ast
import pathlib

import pytest

SRC = pathlib.Path(__file__).resolve().parents[1] / "src"

LAYERS = [
    ("core", ["tapegrad._core", "tapegrad._files", "tapegrad._missing"]),
    ("ops", ["tapegrad.ops"]),
    ("api", ["tapegrad.tape", "tapegrad.rows", "tapegrad.custom", "tapegrad.math", "tapegrad.nn", "tapegrad.linalg",
             "tapegrad.random", "tapegrad.bitwise", "tapegrad.control_flow", "tapegrad.module", "tapegrad.printing"]),
    ("compile", ["tapegrad.compiler"]),
    ("functional", ["tapegrad.functional", "tapegrad.autodiff", "tapegrad.testing"]),
    ("insight", ["tapegrad.explain", "tapegrad.debugging"]),
    ("optimizers", ["tapegrad.optimizers", "tapegrad.keras"]),
    ("drive", ["tapegrad.descent"]),
    ("show", ["tapegrad.plot"]),
    ("cli", ["tapegrad.cli", "tapegrad.__main__", "tapegrad.cli.expr"]),
]
FACADE = "tapegrad"  # the package's __init__: every layer but show and cli, which load on first use
LONGEST = 450


def _layer(module: str) -> int | None:
    for level, (_, prefixes) in enumerate(LAYERS):
        for p in prefixes:
            if module == p or module.startswith(p + "."):
                return level
    return None


def _modules() -> list[tuple[str, pathlib.Path]]:
    out = []
    for f in sorted(SRC.rglob("*.py")):
        parts = list(f.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out.append((".".join(parts), f))
    return out


def _imports(module: str, path: pathlib.Path) -> list[tuple[str, list[str], int]]:
    """(imported module, names taken from it, line) for every import, top level or not."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(a.name, [], node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [a.name for a in node.names]
            # `from pkg import sub` imports the submodule pkg.sub: judge it as that module.
            subs = [n for n in names if (SRC / (target + "." + n).replace(".", "/")).exists()
                    or (SRC / ((target + "." + n).replace(".", "/") + ".py")).exists()]
            found += [(target + "." + n, [], node.lineno) for n in subs]
            rest = [n for n in names if n not in subs]
            if rest:
                found.append((target, rest, node.lineno))
    return [f for f in found if f[0] == "tapegrad" or f[0].startswith("tapegrad.")]


MODULES = _modules()


def test_every_module_has_a_layer():
    assert [m for m, _ in MODULES if m != FACADE and _layer(m) is None] == []


@pytest.mark.parametrize("module, path", MODULES, ids=[m for m, _ in MODULES])
def test_imports_go_only_downward(module, path):
    here = _layer(module)
    wrong = []
    for target, _, line in _imports(module, path):
        there = _layer(target)
        if module == FACADE:
            if there is not None and LAYERS[there][0] in ("show", "cli"):
                wrong.append(f"line {line}: {target} ({LAYERS[there][0]}) must load on first use")
        elif there is None:
            if target == FACADE and LAYERS[here][0] != "cli":
                wrong.append(f"line {line}: the facade `tapegrad` (only the command line may import it)")
        elif there > here:
            wrong.append(f"line {line}: {target} is in layer {LAYERS[there][0]!r}, above {LAYERS[here][0]!r}")
    assert wrong == [], f"{module} imports upward:\n" + "\n".join(wrong)


@pytest.mark.parametrize("module, path", MODULES, ids=[m for m, _ in MODULES])
def test_no_private_names_of_another_module(module, path):
    own_package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    wrong = []
    for target, names, line in _imports(module, path):
        # Inside one subpackage, modules share their private helpers; across packages (and between the
        # top-level modules) they do not.
        if own_package != FACADE and (target == own_package or target.startswith(own_package + ".")):
            continue
        wrong += [f"line {line}: {n} from {target}" for n in names if n.startswith("_") and not n.startswith("__")]
    assert wrong == [], f"{module} takes private names:\n" + "\n".join(wrong)


@pytest.mark.parametrize("module, path", MODULES, ids=[m for m, _ in MODULES])
def test_no_source_file_is_longer_than_the_limit(module, path):
    n = len(path.read_text().splitlines())
    assert n <= LONGEST, f"{path.name} has {n} lines (limit {LONGEST}): split it along a seam"


@pytest.mark.parametrize("module, path", MODULES, ids=[m for m, _ in MODULES])
def test_only_the_core_state_module_writes_the_state(module, path):
    if module == "tapegrad._core.state":
        return
    wrong = []
    for node in ast.walk(ast.parse(path.read_text())):
        targets = []
        if isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in (
                "append", "remove", "pop", "insert", "clear", "extend"):
            targets = [node.func.value]
        for t in targets:
            for part in ast.walk(t):
                if isinstance(part, ast.Attribute) and isinstance(part.value, ast.Name) and part.value.id == "STATE":
                    wrong.append(f"line {node.lineno}: {ast.unparse(node)[:60]}")
    assert wrong == [], f"{module} changes the core's state itself (use _core.state's functions):\n" + "\n".join(wrong)
