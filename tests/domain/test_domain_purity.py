"""The domain stays pure: standard library and `events` only, no clock, no ids, no I/O."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import domain

SOURCES = sorted(Path(domain.__file__).parent.glob("*.py"))
ALLOWED_ROOTS = set(sys.stdlib_module_names) | {"domain", "events"}
IMPURE_STDLIB = {"os", "io", "socket", "subprocess", "random", "uuid", "time", "logging"}


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_the_domain_imports_only_the_standard_library_and_events() -> None:
    # GIVEN every module of the domain package
    # WHEN we collect what each imports
    imported = {path.name: _imported_roots(path) for path in SOURCES}
    # THEN nothing beyond the standard library and `events` (no pydantic, no boto3), and no
    # standard module that reaches the clock, randomness, the environment or the network
    for name, roots in imported.items():
        assert roots <= ALLOWED_ROOTS, (name, roots - ALLOWED_ROOTS)
        assert not roots & IMPURE_STDLIB, (name, roots & IMPURE_STDLIB)


def test_the_domain_never_reads_the_clock() -> None:
    # GIVEN the domain's source
    # WHEN / THEN no call reads the current time: `now` is always passed in
    for path in SOURCES:
        source = path.read_text(encoding="utf-8")
        for clock_read in (".now(", ".utcnow(", ".today("):
            assert clock_read not in source, (path.name, clock_read)
