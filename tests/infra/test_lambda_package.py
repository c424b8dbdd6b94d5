"""Each function's Lambda artifact holds every project module its handler imports, so the
build cannot silently break when a module starts importing another.

`make build-<Function>` (SAM's `BuildMethod: makefile`) copies the project modules its handler
imports (programme/lambda_artifact.py); these tests run every function's target into a
temporary directory (tests/infra/lambda_artifacts.py; no network: the wheels are
DependenciesLayer's). Two checks, per function:

- statically, every module its handler can import (at module level or lazily inside a
  function, not under `TYPE_CHECKING`), transitively, is in its artifact (by a walk of the
  tests' own, not the build's);
- in a fresh interpreter that has no other copy of the project (no `site`, so no editable
  install; the checkout not on `sys.path`), its handler imports from its artifact, and
  every other module it loads is the standard library's or a `requirements/lambda.lock`
  distribution's (as the layer holds them).

And what the cold start of the entry points leaves out (bench/cold_start.py measures it):
the X-Ray SDK where tracing is off, the domain, the events and the read models on the
public intake and the queries until a request needs them.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.infra.lambda_artifacts import (
    PROJECT,
    ROOT,
    built_artifacts,
    function_handlers,
    project_imports,
)

# Files read at run time rather than imported (functions/queries serves the OpenAPI document).
DATA_FILES = ("functions/openapi.json",)
# The local stack, the CLI and the template reader: no Lambda needs them (some import moto,
# yaml or rich, which the Lambda lock does not have); the ASL is read at deploy time.
NEVER_SHIPPED = ("programme", "infra/statemachines")


def handler_modules() -> list[str]:
    """The module of every function's `Handler` in template.yaml."""
    return sorted(set(function_handlers().values()))


def lambda_distributions() -> set[str]:
    text = (ROOT / "requirements" / "lambda.lock").read_text(encoding="utf-8")
    return {_normalise(name) for name in re.findall(r"^([A-Za-z0-9._-]+)==", text, re.M)}


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


_IMPORT_EACH = """
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
results = {}
# One artifact after the other in this interpreter: the project's modules are forgotten and
# the artifact taken off the path before the next (the third-party ones stay loaded).
for artifact, module in ARTIFACTS:
    for name in [name for name in sys.modules if name.partition(".")[0] in PROJECT]:
        del sys.modules[name]
    sys.path.append(artifact)
    importlib.invalidate_caches()
    failed = None
    try:
        importlib.import_module(module)
    except Exception as error:
        failed = f"{type(error).__name__}: {error}"
    openapi = sys.modules.get("functions.openapi")
    results[artifact] = {
        "failed": failed,
        "loaded": {
            name: getattr(loaded, "__file__", None)
            for name, loaded in list(sys.modules.items())
            if name.partition(".")[0] in PROJECT
        },
        "document": str(openapi.DOCUMENT_PATH) if openapi else None,
    }
    sys.path.remove(artifact)
print(json.dumps(results))
"""


def lambda_top_level_names() -> set[str]:
    """The importable top-level names the Lambda lock's distributions provide."""
    allowed = lambda_distributions()
    return {
        name
        for name, owners in importlib.metadata.packages_distributions().items()
        if any(_normalise(owner) in allowed for owner in owners)
    }


def import_from_artifacts(artifacts: dict[Path, str]) -> dict[Path, list[str]]:
    """What is wrong, per artifact, when its handler's module is imported with the project only
    in that artifact (one interpreter for all, one artifact on the path at a time).

    The third-party packages come from this interpreter's site-packages (where Lambda has the
    layer's), and only those of `requirements/lambda.lock` can be imported; the project has no
    other copy there, the editable install's finder being a `.pth` that `-S` skips. `-B`
    leaves the artifact as it was, without bytecode.
    """
    paths = sysconfig.get_paths()
    sys_path = [paths["purelib"], paths["platlib"]]
    available = sorted({*PROJECT, *lambda_top_level_names()})
    pairs = [(str(artifact), module) for artifact, module in artifacts.items()]
    code = (
        f"import sys; sys.path[:0] = {sys_path!r}\n"
        f"ARTIFACTS, PROJECT, AVAILABLE = {pairs!r}, {PROJECT!r}, {available!r}\n"
    ) + _IMPORT_EACH
    done = subprocess.run(
        [sys.executable, "-S", "-B", "-c", code],
        cwd=next(iter(artifacts)).parent,  # where '' on sys.path finds no project package
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin"},
    )
    if done.returncode != 0:
        return {
            artifact: [f"the import run failed: {done.stderr[-2000:]}"] for artifact in artifacts
        }
    results = json.loads(done.stdout.splitlines()[-1])
    problems: dict[Path, list[str]] = {}
    for artifact, module in artifacts.items():
        result = results[str(artifact)]
        found = problems.setdefault(artifact, [])
        if result["failed"]:
            found.append(f"{module}: {result['failed']}")
        root = artifact.resolve()
        for name, file in sorted(result["loaded"].items()):
            if file and not Path(file).resolve().is_relative_to(root):
                found.append(f"{name} was loaded from {file}, not from the artifact")
        document = result["document"]
        if document and not Path(document).is_file():
            found.append(f"the OpenAPI document the queries serve is missing: {document}")
    return problems


@pytest.fixture(scope="module")
def artifacts() -> dict[str, Path]:
    return built_artifacts()


def test_template_names_every_entry_point() -> None:
    # GIVEN / WHEN the template's handlers are read
    modules = handler_modules()
    # THEN the HTTP functions, the projector and the lifecycle tasks are all there
    assert {"functions.intake.app", "functions.commands.app", "functions.queries.app"} <= set(
        modules
    )
    assert "functions.projector.app" in modules
    assert len(modules) >= 10


def test_every_module_a_handler_can_import_is_in_its_artifact(
    artifacts: dict[str, Path],
) -> None:
    # GIVEN every function's artifact, built by its Makefile target
    # WHEN every project module its handler can import (lazily too) is looked for in it
    missing = {
        f"{function}: {path.relative_to(ROOT)} (imported by {handler})"
        for function, handler in function_handlers().items()
        for path in project_imports(handler).values()
        if not (artifacts[function] / path.relative_to(ROOT)).is_file()
    }
    # THEN none is missing
    assert not missing, "programme/lambda_artifact.py left out:\n" + "\n".join(sorted(missing))


def test_files_read_at_run_time_are_in_the_artifacts_that_read_them(
    artifacts: dict[str, Path],
) -> None:
    assert all((artifacts["QueriesFunction"] / name).is_file() for name in DATA_FILES)
    assert [
        function
        for function, artifact in artifacts.items()
        if (artifact / "functions/openapi.py").is_file()
        and not (artifact / "functions/openapi.json").is_file()
    ] == []


def test_every_handler_imports_from_its_artifact_alone(artifacts: dict[str, Path]) -> None:
    # GIVEN a fresh interpreter with the project only in one function's artifact at a time
    handlers = function_handlers()
    # WHEN each function's handler is imported from its artifact
    problems = import_from_artifacts(
        {artifact: handlers[function] for function, artifact in artifacts.items()}
    )
    # THEN each imports, from its artifact, needing nothing outside the Lambda lock
    found = [f"{path.name}: {problem}" for path, listed in problems.items() for problem in listed]
    assert not found, "\n".join(found)


def test_the_local_stack_and_the_cli_are_not_shipped(artifacts: dict[str, Path]) -> None:
    # GIVEN / WHEN every artifact is built
    for artifact in artifacts.values():
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
