"""The house's floors, bottom up: events → domain → infra → functions → programme.

A module may import its own floor and any floor below it, never one above: the domain knows no
adapter, an adapter no handler, a handler nothing of the local runtime. Every import counts,
including the lazy ones inside functions and those under `TYPE_CHECKING`, since each is a
dependency a reader has to follow.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FLOORS = ("events", "domain", "infra", "functions", "programme")


def imported_packages(path: Path) -> set[tuple[int, str]]:
    """(line, top-level package) of every absolute import of one of the floors in `path`."""
    found: set[tuple[int, str]] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", None) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            names = [str(node.args[0].value)]
        line = getattr(node, "lineno", 0)
        found |= {(line, n.split(".")[0]) for n in names if n.split(".")[0] in FLOORS}
    return found


def upward_imports(floor: str) -> list[str]:
    level = FLOORS.index(floor)
    return [
        f"{path.relative_to(ROOT)}:{line} imports {package}"
        for path in sorted((ROOT / floor).rglob("*.py"))
        for line, package in sorted(imported_packages(path))
        if FLOORS.index(package) > level
    ]


@pytest.mark.parametrize("floor", FLOORS)
def test_no_module_imports_a_floor_above_its_own(floor: str) -> None:
    # GIVEN every module of one floor
    # WHEN we collect which of the floors each imports (lazy and type-only imports included)
    # THEN none is above it
    assert upward_imports(floor) == []


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    # GIVEN a module that imports, lazily, a floor above the one it would live on
    module = tmp_path / "module.py"
    module.write_text("def f():\n    from functions.common import bootstrap\n", encoding="utf-8")
    # WHEN its imports are collected
    found = imported_packages(module)
    # THEN the upward one is among them, with its line
    assert found == {(2, "functions")}


def test_every_floor_has_modules() -> None:
    # GIVEN the floors the check walks
    # THEN each is a package with modules, so an empty walk cannot pass for a clean one
    for floor in FLOORS:
        assert (ROOT / floor / "__init__.py").is_file(), floor
        assert len(list((ROOT / floor).rglob("*.py"))) > 1, floor
