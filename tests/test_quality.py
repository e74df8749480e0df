"""Lint, types and the layer rule run with the tests, so CI and a developer see the same thing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).parents[1]


PYTHON_TREES = ["launcher", "tests", "bench", "build", ".ci", "docs"]


@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "-m", "ruff", "check", *PYTHON_TREES],
        [sys.executable, "-m", "ruff", "format", "--check", *PYTHON_TREES],
        [sys.executable, "-m", "mypy"],
        ["lint-imports"],
    ],
    ids=["ruff-check", "ruff-format", "mypy", "import-layers"],
)
def test_code_quality(command: list[str]) -> None:
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr


def test_readme_test_command_is_what_ci_runs() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    commands = [line.strip() for line in readme.splitlines() if line.startswith("pip install")]
    assert len(commands) >= 2, "the README must open with the install-and-run and test commands"
    assert commands[1].replace("pip install", "python -m pip install -q", 1) in ci


def test_server_layer_uses_qtcore_at_most() -> None:
    """import-linter cannot forbid PySide6 submodules, so this reads the imports itself."""
    import ast

    offenders = []
    for path in (REPO / "launcher" / "server").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            for name in names:
                if name.startswith("PySide6.") and not name.startswith("PySide6.QtCore"):
                    offenders.append(f"{path.name}: {name}")
    assert offenders == []


def test_server_process_code_imports_only_the_standard_library_at_module_level() -> None:
    """launcher/server/child/ runs in the project's Python, which may lack the launcher and its
    dependencies: at module level it may import the standard library and its own package only
    (MLflow inside functions). The import-linter contract checks the rest of the launcher."""
    import ast

    offenders = []
    for path in (REPO / "launcher" / "server" / "child").glob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and not name.startswith(
                    "launcher.server.child"
                ):
                    offenders.append(f"{path.name}: {name}")
    assert offenders == []


def _imports_of(path: Path) -> set[str]:
    """Every ``launcher`` module a file imports, those imported inside functions included."""
    import ast

    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("launcher"):
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names if a.name.startswith("launcher"))
    return names


def test_no_import_cycles() -> None:
    """A dialog receives what it needs; it does not import its opener. import-linter checks
    the layers; this finds circles inside a layer, lazy imports counted: a lazy import still
    ties two modules together."""
    graph: dict[str, set[str]] = {}
    for path in (REPO / "launcher").rglob("*.py"):
        module = ".".join(path.with_suffix("").relative_to(REPO).parts).removesuffix(".__init__")
        graph[module] = _imports_of(path)
    graph = {m: {d for d in deps if d in graph and d != m} for m, deps in graph.items()}

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            module = todo.pop()
            if module == goal:
                return True
            if module not in seen:
                seen.add(module)
                todo.extend(graph[module])
        return False

    circles = sorted(f"{m} <-> {d}" for m in graph for d in graph[m] if m < d and reaches(d, m))
    assert circles == []


MAX_MODULE_LINES = 500


def test_the_readme_code_layout_names_every_module_and_no_folder_is_crowded() -> None:
    """A newcomer reads the layout before the code: a module it leaves out, or one that grew
    past about 500 lines, or a folder of more than about 12 modules, is where they get lost.
    The line count is a smoke alarm, not a target: modules split by job (issue 25 raised it
    from 410, at which modules were being cut to fit)."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    layout = readme[readme.index("## Code layout") :]
    layout = layout[: layout.index("\n## ", 1)]
    modules = [p for p in (REPO / "launcher").rglob("*.py") if p.name != "__init__.py"]
    unnamed = [str(p.relative_to(REPO)) for p in modules if f"`{p.name}`" not in layout]
    assert unnamed == []
    long = {
        str(p.relative_to(REPO)): n
        for p in modules
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}
    crowded = {
        str(d.relative_to(REPO)): n
        for d in (REPO / "launcher").rglob("*")
        if d.is_dir() and (n := len([p for p in d.glob("*.py") if p.name != "__init__.py"])) > 15
    }
    assert crowded == {}


def test_every_package_ships_in_the_wheel() -> None:
    """pyproject lists the packages by name: one left out is missing from `pip install .`
    (the tray then fails at its first import, as the first-run check once showed)."""
    import tomllib

    listed = set(
        tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"][
            "packages"
        ]
    )
    found = {
        ".".join(init.parent.relative_to(REPO).parts)
        for init in (REPO / "launcher").rglob("__init__.py")
    }
    assert found - listed == set()
