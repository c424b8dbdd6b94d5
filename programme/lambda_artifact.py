"""One Lambda function's own code: the project modules its handler can import, and nothing else.

    python3 programme/lambda_artifact.py HANDLER_MODULE ARTIFACTS_DIR
    python3 programme/lambda_artifact.py HANDLER_MODULE --list

`make build-<Function>` (SAM's `BuildMethod: makefile`) runs it by path, under whatever
`python3` runs `sam build`: it imports the standard library only, never the project nor a
third-party package (those are in `DependenciesLayer`, built from `requirements/lambda.lock`).

From the handler's module it follows the static import graph over `LAMBDA_PACKAGES`:
`import` and `from ... import` statements anywhere in a module, those inside functions too
(the lazy imports that keep a cold start short are deliberate), relative ones, and
`importlib.import_module("...")` / `__import__("...")` with a literal name; not what sits under
`if TYPE_CHECKING:`, which never runs. Each module found is copied with the `__init__.py` of
every package above it (Python runs them on the way in), and the data files a module reads
beside itself (`DATA_FILES`). Never `infra/statemachines` (read by the template at deploy
time), never bytecode (it would be this machine's Python's, not 3.13's). `--list` prints the
relative paths instead of copying them.

tests/infra/test_lambda_artifacts.py checks the result against what each handler really
loads in an interpreter.
"""

from __future__ import annotations

import argparse
import ast
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The floors a Lambda may import; never `programme` (the local stack, the CLI, this script).
LAMBDA_PACKAGES = ("domain", "events", "functions", "infra")
NEVER_SHIPPED = ("infra/statemachines",)
# Files a module reads at run time, beside itself (the queries serve the OpenAPI document).
DATA_FILES = {"functions.openapi": ("functions/openapi.json",)}
# Functions that run only on a developer's machine, whose imports are not followed: the
# document's generator (`python -m functions.openapi`) imports every HTTP function's router,
# and the queries, which only serve the document, would otherwise carry the intake and the
# commands. The artifact test checks that no shipped module imports these names.
NOT_ON_LAMBDA = {"functions.openapi": ("build_document", "main")}
_DYNAMIC_IMPORTS = {"import_module", "__import__"}


def module_file(name: str, root: Path = ROOT) -> Path | None:
    """The source of module `name` under `root`, if it is one of the project's."""
    if name.partition(".")[0] not in LAMBDA_PACKAGES:
        return None
    base = root.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _type_checking_only(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolve(package: str, level: int, module: str | None) -> str:
    """The absolute name of `from <level dots><module> import ...` inside `package`."""
    if not level:
        return module or ""
    parts = package.split(".")
    parts = parts[: len(parts) - level + 1]
    return ".".join([*parts, *([module] if module else [])])


def imported_names(path: Path, package: str, skipped: tuple[str, ...] = ()) -> set[str]:
    """Every module name an import in the file at `path` (a module of `package`) can load:
    both `a.b` and `a.b.c` for `from a.b import c`, since `c` may be a submodule. Not what the
    module-level functions named in `skipped` import."""
    names: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking_only(child.test):
                for statement in child.orelse:
                    visit_node(statement)
            elif not (
                node is tree
                and isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
                and child.name in skipped
            ):
                visit_node(child)

    def visit_node(node: ast.AST) -> None:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(package, node.level, node.module)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
        elif isinstance(node, ast.Call) and node.args:
            function = node.func
            called = function.attr if isinstance(function, ast.Attribute) else None
            if isinstance(function, ast.Name):
                called = function.id
            first = node.args[0]
            if (
                called in _DYNAMIC_IMPORTS
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
            ):
                names.add(first.value)
        visit(node)

    visit(tree)
    return names


def handler_files(handler_module: str, root: Path = ROOT) -> list[str]:
    """The relative paths of every project file the handler's module needs, sorted."""
    if module_file(handler_module, root) is None:
        raise SystemExit(f"{handler_module}: no such module under {', '.join(LAMBDA_PACKAGES)}")
    found: dict[str, Path] = {}
    pending = [handler_module]
    while pending:
        parts = pending.pop().split(".")
        for end in range(1, len(parts) + 1):
            name = ".".join(parts[:end])
            if name in found:
                continue
            path = module_file(name, root)
            if path is None:
                continue
            found[name] = path
            package = name if path.name == "__init__.py" else name.rpartition(".")[0]
            pending.extend(imported_names(path, package, NOT_ON_LAMBDA.get(name, ())))
    files = {path.relative_to(root).as_posix() for path in found.values()}
    for name in found:
        files.update(DATA_FILES.get(name, ()))
    return sorted(
        file
        for file in files
        if not any(file == never or file.startswith(never + "/") for never in NEVER_SHIPPED)
    )


def copy_files(files: list[str], target: Path, root: Path = ROOT) -> None:
    for file in files:
        destination = target / file
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / file, destination)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="Copy one Lambda handler's project modules.")
    parser.add_argument("handler_module", help="e.g. functions.intake.app")
    parser.add_argument("target", nargs="?", type=Path, help="the function's ARTIFACTS_DIR")
    parser.add_argument("--list", action="store_true", help="print the files, copy nothing")
    arguments = parser.parse_args(argv)
    files = handler_files(arguments.handler_module)
    if arguments.list:
        print("\n".join(files))
    elif arguments.target is None:
        parser.error("a target directory, or --list")
    else:
        copy_files(files, arguments.target)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
