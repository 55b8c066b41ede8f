"""The house rules, checked: one-way imports, small modules, small folders, a cheap import.

See "How the code is organised" in docs/api.md.
"""

import ast
import importlib
import pathlib
import subprocess
import sys
import types

import pytest

import symgrad

PACKAGE = pathlib.Path(symgrad.__file__).parent
MODULES = {
    ".".join(("symgrad", *path.relative_to(PACKAGE).with_suffix("").parts))
    .removesuffix(".__init__"): path
    for path in sorted(PACKAGE.rglob("*.py"))
}
MAX_LINES = 400
MAX_MODULES_PER_FOLDER = 15


def _imports(name: str, path: pathlib.Path) -> set:
    """Every symgrad module ``name`` imports, at the top or inside functions."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative imports are not used; resolve them anyway
                base = name.split(".")[: -node.level if path.name != "__init__.py" else None]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:  # `from pkg import module` is an edge to the module
                sub = f"{module}.{alias.name}"
                found.add(sub if sub in MODULES else module)
    return {m for m in found if m in MODULES and m != name}


def _graph() -> dict:
    graph = {name: _imports(name, path) for name, path in MODULES.items()}
    # Imports by name at run time: the lazy facade, the backend registry, the CLI.
    from symgrad.backends import REGISTRY
    from symgrad.cli.main import COMMANDS

    graph["symgrad"] |= set(symgrad._LAZY.values())
    graph["symgrad.backends"] |= {module for module, _ in REGISTRY.values()}
    graph["symgrad.cli.main"] |= {f"symgrad.cli.{c}" for c in COMMANDS}
    return graph


def _cycle(graph):
    """One import cycle as a list of modules, or None."""
    state = {}

    def visit(node, stack):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt, stack)
                if found:
                    return found
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node, [])
            if found:
                return found
    return None


def test_no_import_cycle_lazy_imports_included():
    assert _cycle(_graph()) is None, " -> ".join(_cycle(_graph()))


def test_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_the_lower_layers_import_nothing_above_them():
    graph = _graph()
    low = ["symgrad.spec", "symgrad.errors", "symgrad.activations", "symgrad.network",
           "symgrad.derive", "symgrad.layerwise"]
    high = ("symgrad.backends", "symgrad.claims", "symgrad.render", "symgrad.training",
            "symgrad.testing", "symgrad.cli", "symgrad.references")
    for name in low:
        assert not [m for m in graph[name] if m.startswith(high)], name
    for name, imports in graph.items():
        if name != "symgrad":
            assert "symgrad" not in imports, f"{name} imports the facade"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_is_at_most_400_lines(name):
    lines = MODULES[name].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{name} has {lines} lines"


def test_no_folder_holds_more_than_15_modules():
    folders = {}
    for path in MODULES.values():
        folders.setdefault(path.parent, []).append(path.name)
    for folder, names in folders.items():
        assert len(names) <= MAX_MODULES_PER_FOLDER, (folder, names)


def test_knowledge_of_one_activation_lives_in_few_modules():
    """Adding an activation touches the table, the spec's list and the two references."""
    holders = sorted(n for n, p in MODULES.items() if "leaky" in p.read_text(encoding="utf-8"))
    assert len(holders) <= 5, holders


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_names_are_not_shadowed_by_functions(name):
    """``import symgrad.claims.verify as v`` gives the module, not a function."""
    if name == "symgrad" or name.endswith("__main__"):
        return
    module = importlib.import_module(name)
    parent, _, leaf = name.rpartition(".")
    assert getattr(importlib.import_module(parent), leaf) is module


def test_public_names_are_not_module_names():
    for name in symgrad.__all__:
        assert f"symgrad.{name}" not in MODULES, name
        assert not isinstance(getattr(symgrad, name), types.ModuleType), name


def test_facade_is_lazy_and_complete():
    code = ("import sys, symgrad\n"
            "assert 'sympy' not in sys.modules, 'import symgrad loaded sympy'\n"
            "assert symgrad.__version__\n"
            "symgrad.Network\n"
            "assert 'sympy' in sys.modules\n"
            "missing = [n for n in symgrad.__all__ if not hasattr(symgrad, n)]\n"
            "assert not missing, missing\n"
            "assert set(symgrad.__all__) <= set(dir(symgrad))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        symgrad.nonsense  # noqa: B018


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["verify", "--help"]])
def test_cli_version_and_help_do_not_load_sympy(argv):
    code = ("import sys\n"
            "from symgrad.cli.main import main\n"
            f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
            "print('sympy' in sys.modules, 'numba' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "False False"


def test_version_has_one_source():
    from symgrad._version import __version__

    assert symgrad.__version__ == __version__
    pyproject = (PACKAGE.parent / "pyproject.toml").read_text(encoding="utf-8")
    assert 'dynamic = ["version"]' in pyproject
    assert "symgrad._version.__version__" in pyproject
    from importlib.metadata import version

    assert version("symgrad") == __version__


def test_package_ships_its_type_marker_licence_and_changelog():
    root = PACKAGE.parent
    assert (PACKAGE / "py.typed").exists()
    assert "MIT" in (root / "LICENSE").read_text(encoding="utf-8")
    changelog = (root / "CHANGELOG.md").read_text(encoding="utf-8")
    assert symgrad.__version__.split(".dev")[0] in changelog
