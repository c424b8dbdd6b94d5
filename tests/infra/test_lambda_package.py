"""The Lambda artifact holds every project module a handler imports, so the build cannot
silently break when a module starts importing another.

`make build-<Function>` (SAM's `BuildMethod: makefile`) copies only `LAMBDA_SOURCES` of the
project, through the same recipe as `make lambda-sources`, which these tests run into a
temporary directory (no network: the wheels are not fetched). Two checks:

- statically, every module each handler of `template.yaml` can import (at module level or
  lazily inside a function, not under `TYPE_CHECKING`), transitively, is in the artifact;
- in a fresh interpreter that has no other copy of the project (no `site`, so no editable
  install; the checkout not on `sys.path`), every handler imports from the artifact, and
  every other module it loads is the standard library's or a `requirements/lambda.lock`
  distribution's.

And what the cold start of the entry points leaves out (bench/cold_start.py measures it):
the X-Ray SDK where tracing is off, the domain, the events and the read models on the
public intake and the queries until a request needs them.
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ("domain", "events", "functions", "infra", "programme")
# Files read at run time rather than imported (functions/queries serves the OpenAPI document).
DATA_FILES = ("functions/openapi.json",)
# The local stack, the CLI and the template reader: no Lambda needs them (some import moto,
# yaml or rich, which the Lambda lock does not have); the ASL is read at deploy time.
NEVER_SHIPPED = ("programme", "infra/statemachines")


def handler_modules() -> list[str]:
    """The module of every function's `Handler` in template.yaml (read as text: no yaml)."""
    text = (ROOT / "template.yaml").read_text(encoding="utf-8")
    return sorted({h.rsplit(".", 1)[0] for h in re.findall(r"^\s+Handler:\s*(\S+)", text, re.M)})


def make_lambda_sources(target: Path) -> None:
    """The project's part of the artifact, by the Makefile's own recipe."""
    subprocess.run(
        ["make", "--no-print-directory", "-s", "lambda-sources", f"ARTIFACTS_DIR={target}"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )


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


def _imported_names(path: Path, package: str) -> set[str]:
    """Every name an import statement in `path` can load (both `a.b` and `a.b.c` for
    `from a.b import c`, since `c` may be a submodule), `TYPE_CHECKING` blocks excepted."""
    names: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking_only(child.test):
                for statement in child.orelse:
                    visit_statement(statement)
            else:
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
    return names


def project_imports(module: str) -> dict[str, Path]:
    """The project modules `module` can import, transitively, with their packages' inits."""
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
            pending.extend(_imported_names(path, package))
    return found


def lambda_distributions() -> set[str]:
    text = (ROOT / "requirements" / "lambda.lock").read_text(encoding="utf-8")
    return {_normalise(name) for name in re.findall(r"^([A-Za-z0-9._-]+)==", text, re.M)}


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


_IMPORT_ALL = """
import importlib, json, sys


class NotInTheArtifact:
    # Anything but the standard library, the project and the Lambda lock is absent, as on
    # Lambda: an optional import (botocore's of certifi, say) finds nothing, a needed one fails.
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top in AVAILABLE or top in sys.stdlib_module_names or top.startswith("_sysconfig"):
            return None
        raise ModuleNotFoundError(f"No module named {name!r} in the Lambda artifact", name=name)


sys.meta_path.insert(0, NotInTheArtifact())
failed = {}
for module in MODULES:
    try:
        importlib.import_module(module)
    except Exception as error:
        failed[module] = f"{type(error).__name__}: {error}"
from functions.openapi import DOCUMENT_PATH
loaded = {
    name: getattr(module, "__file__", None)
    for name, module in list(sys.modules.items())
    if name.partition(".")[0] in PROJECT
}
print(json.dumps({"failed": failed, "loaded": loaded, "document": str(DOCUMENT_PATH)}))
"""


def lambda_top_level_names() -> set[str]:
    """The importable top-level names the Lambda lock's distributions provide."""
    allowed = lambda_distributions()
    return {
        name
        for name, owners in importlib.metadata.packages_distributions().items()
        if any(_normalise(owner) in allowed for owner in owners)
    }


def import_from_artifact(artifact: Path, modules: list[str]) -> list[str]:
    """What is wrong when `modules` are imported with the project only in `artifact`.

    The third-party packages come from this interpreter's site-packages, put *before* the
    artifact (which may hold them built for another platform, aarch64), and only those of
    `requirements/lambda.lock` can be imported; the project has no other copy there, the
    editable install's finder being a `.pth` that `-S` skips. `-B` leaves the artifact as it
    was, without bytecode.
    """
    paths = sysconfig.get_paths()
    sys_path = [paths["purelib"], paths["platlib"], str(artifact)]
    available = sorted({*PROJECT, *lambda_top_level_names()})
    code = (
        f"import sys; sys.path[:0] = {sys_path!r}\n"
        f"MODULES, PROJECT, AVAILABLE = {modules!r}, {PROJECT!r}, {available!r}\n"
    ) + _IMPORT_ALL
    done = subprocess.run(
        [sys.executable, "-S", "-B", "-c", code],
        cwd=artifact,
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin"},
    )
    if done.returncode != 0:
        return [f"the import run failed: {done.stderr[-2000:]}"]
    result = json.loads(done.stdout.splitlines()[-1])
    problems = [f"{module}: {error}" for module, error in result["failed"].items()]
    root = artifact.resolve()
    for name, file in sorted(result["loaded"].items()):
        if file and not Path(file).resolve().is_relative_to(root):
            problems.append(f"{name} was loaded from {file}, not from the artifact")
    if not Path(result["document"]).is_file():
        problems.append(f"the OpenAPI document the queries serve is missing: {result['document']}")
    return problems


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("lambda-artifact")
    make_lambda_sources(target)
    return target


def test_template_names_every_entry_point() -> None:
    # GIVEN / WHEN the template's handlers are read
    modules = handler_modules()
    # THEN the HTTP functions, the projector and the lifecycle tasks are all there
    assert {"functions.intake.app", "functions.commands.app", "functions.queries.app"} <= set(
        modules
    )
    assert "functions.projector.app" in modules
    assert len(modules) >= 10


def test_every_module_a_handler_can_import_is_in_the_artifact(artifact: Path) -> None:
    # GIVEN the project's part of the artifact, built by the Makefile's recipe
    # WHEN every project module each handler can import (lazily too) is looked for in it
    missing = {
        f"{path.relative_to(ROOT)} (imported by {handler})"
        for handler in handler_modules()
        for path in project_imports(handler).values()
        if not (artifact / path.relative_to(ROOT)).is_file()
    }
    # THEN none is missing
    assert not missing, "add to LAMBDA_SOURCES in the Makefile:\n" + "\n".join(sorted(missing))


def test_files_read_at_run_time_are_in_the_artifact(artifact: Path) -> None:
    assert all((artifact / name).is_file() for name in DATA_FILES)


def test_every_handler_imports_from_the_artifact_alone(artifact: Path) -> None:
    # GIVEN a fresh interpreter with the project only in the artifact
    # WHEN every handler is imported there
    problems = import_from_artifact(artifact, handler_modules())
    # THEN each imports, from the artifact, needing nothing outside the Lambda lock
    assert not problems, "\n".join(problems)


def test_the_local_stack_and_the_cli_are_not_shipped(artifact: Path) -> None:
    # GIVEN / WHEN the artifact is built
    # THEN what only the local stack, the CLI and the tests use is not in it
    assert not [name for name in NEVER_SHIPPED if (artifact / name).exists()]
    assert not (artifact / "tests").exists()
    assert not list(artifact.rglob("__pycache__"))


def _imported_in_a_fresh_interpreter(
    modules: list[str], probe: str, env: dict[str, str] | None = None
) -> str:
    """`probe`'s value after importing `modules` in a new interpreter (the editable install)."""
    code = f"import sys, {', '.join(modules)}; print({probe})"
    base = {k: v for k, v in os.environ.items() if k not in ("LAMBDA_TASK_ROOT", "AWS_SAM_LOCAL")}
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_where_tracing_is_off_the_entry_points_do_not_import_the_xray_sdk() -> None:
    # GIVEN an interpreter outside Lambda (Powertools' Tracer is off there)
    apps = ["functions.intake.app", "functions.commands.app", "functions.queries.app"]
    # WHEN the HTTP entry points are imported
    found = _imported_in_a_fresh_interpreter(
        apps,
        "'aws_xray_sdk.core' in sys.modules, "
        "[type(sys.modules[a].tracer.provider).__name__ for a in " + repr(apps) + "]",
    )
    # THEN X-Ray's recorder was never loaded, and each tracer records nothing
    assert found == "False ['Untraced', 'Untraced', 'Untraced']"


def test_on_lambda_with_tracing_on_the_entry_points_trace_with_xray() -> None:
    # GIVEN an interpreter that looks like a Lambda with `Tracing: Active`
    env = {"LAMBDA_TASK_ROOT": str(ROOT), "AWS_LAMBDA_FUNCTION_NAME": "intake"}
    env["POWERTOOLS_TRACE_DISABLED"] = "false"
    # WHEN an entry point is imported
    found = _imported_in_a_fresh_interpreter(
        ["functions.intake.app"],
        "(lambda t: (t.disabled, type(t.provider).__module__))"
        "(sys.modules['functions.intake.app'].tracer)",
        env,
    )
    # THEN its tracer is Powertools' own with X-Ray's recorder
    assert found == "(False, 'aws_xray_sdk.core.async_recorder')"


@pytest.mark.parametrize("app", ["functions.intake.app", "functions.queries.app"])
def test_the_intake_and_the_queries_load_the_domain_and_read_models_only_when_used(
    app: str,
) -> None:
    # WHEN the public intake or the queries is imported
    found = _imported_in_a_fresh_interpreter(
        [app],
        "sorted(m for m in ('domain', 'events', 'infra.readmodels', 'infra.command_handler',"
        " 'infra.vault') if m in sys.modules)",
    )
    # THEN none of what only an accepted delivery or a read needs is loaded yet
    assert found == "[]"
