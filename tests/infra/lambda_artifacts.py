"""Every function's artifact, built by its own `make build-<Function>` (SAM's `BuildMethod:
makefile` target) into a temporary directory, and an independent static walk of what a handler
can import, for tests/infra/test_lambda_artifacts.py and test_lambda_package.py.

No network: a function's target copies the project modules its handler imports (the third-party
packages are DependenciesLayer's, built by requirements/Makefile and not here).
"""

from __future__ import annotations

import ast
import atexit
import shutil
import subprocess
import tempfile
from functools import cache
from pathlib import Path

from programme.lambda_artifact import NOT_ON_LAMBDA
from programme.template import load_template

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ("domain", "events", "functions", "infra", "programme")


@cache
def function_handlers() -> dict[str, str]:
    """Each `AWS::Serverless::Function` of template.yaml -> its `Handler`'s module."""
    resources = load_template(ROOT / "template.yaml")["Resources"]
    return {
        logical_id: resource["Properties"]["Handler"].rsplit(".", 1)[0]
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def build_artifacts(target: Path) -> dict[str, Path]:
    """Every function's artifact under `target`, by the Makefile's targets, run side by side."""
    builds = {}
    for function in function_handlers():
        directory = target / function
        command = ["make", "--no-print-directory", "-s", f"build-{function}"]
        builds[function] = (
            directory,
            subprocess.Popen(
                [*command, f"ARTIFACTS_DIR={directory}"],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            ),
        )
    failed = []
    for function, (_, process) in builds.items():
        output, _ = process.communicate(timeout=60)
        if process.returncode != 0:
            failed.append(f"make build-{function}: {output}")
    assert not failed, "\n".join(failed)
    return {function: directory for function, (directory, _) in builds.items()}


@cache
def built_artifacts() -> dict[str, Path]:
    """`build_artifacts` once per test process, into a directory removed at its exit."""
    target = Path(tempfile.mkdtemp(prefix="lambda-artifacts-"))
    atexit.register(shutil.rmtree, target, ignore_errors=True)
    return build_artifacts(target)


def files_in(artifact: Path) -> set[str]:
    return {path.relative_to(artifact).as_posix() for path in artifact.rglob("*") if path.is_file()}


def _module_file(name: str) -> Path | None:
    base = ROOT.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _type_checking_only(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


@cache
def _imported_names(path: Path, package: str, skipped: tuple[str, ...]) -> frozenset[str]:
    """Every name an import statement in `path` can load (both `a.b` and `a.b.c` for
    `from a.b import c`, since `c` may be a submodule), `TYPE_CHECKING` blocks and the bodies
    of the module-level functions in `skipped` excepted."""
    names: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking_only(child.test):
                for statement in child.orelse:
                    visit_statement(statement)
            elif not (isinstance(child, ast.FunctionDef) and child.name in skipped):
                visit_statement(child)

    def visit_statement(node: ast.AST) -> None:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
        visit(node)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return frozenset(names)


def project_imports(module: str) -> dict[str, Path]:
    """The project modules `module` can import, transitively, with their packages' inits; not
    what the functions `programme.lambda_artifact.NOT_ON_LAMBDA` names import (the OpenAPI
    document's generator, which runs on a developer's machine only)."""
    found: dict[str, Path] = {}
    pending = [module]
    while pending:
        parts = pending.pop().split(".")
        if parts[0] not in PROJECT:
            continue
        for end in range(1, len(parts) + 1):
            name = ".".join(parts[:end])
            path = _module_file(name)
            if name in found or path is None:
                continue
            found[name] = path
            package = name if path.name == "__init__.py" else name.rpartition(".")[0]
            pending.extend(_imported_names(path, package, NOT_ON_LAMBDA.get(name, ())))
    return found
