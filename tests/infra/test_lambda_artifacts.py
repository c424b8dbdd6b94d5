"""Each function carries only its own code; the third-party packages are one shared layer.

`make build-<Function>` copies the project modules its handler imports (programme/
lambda_artifact.py, from the handler's module along the static import graph, lazy imports
included); `DependenciesLayer` holds requirements/lambda.lock for every function
(requirements/Makefile). Checked here, per function, on the artifact its own target builds:

- every project module its handler loads when imported (listed from `sys.modules` in an
  interpreter with the editable install) is in it, and nothing is in it that the handler can
  neither load nor import lazily (the tests' own static walk, tests/infra/lambda_artifacts.py);
- an entry point does not carry the others (the intake no queries, the queries no intake nor
  commands, a lifecycle task no HTTP function);
- the template gives every function the layer, the layer is built from the lock for the
  functions' runtime and architecture, and samconfig.toml builds in source (no copy of .venv).

tests/infra/test_lambda_package.py imports every handler from its artifact alone.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from programme import lambda_artifact
from programme.template import load_template
from tests.infra.lambda_artifacts import (
    ROOT,
    built_artifacts,
    files_in,
    function_handlers,
    project_imports,
)

ENTRY_POINTS = (
    "functions/intake",
    "functions/commands",
    "functions/queries",
    "functions/projector",
    "functions/lifecycle",
)
LIFECYCLE = (
    "NextTransitionFunction",
    "ApplyTransitionFunction",
    "HandOverFunction",
    "RecordFailureFunction",
    "LifecycleStarterFunction",
    "LifecycleReconcilerFunction",
)


def _others(own: str, *more: str) -> tuple[str, ...]:
    return (*(entry for entry in ENTRY_POINTS if entry != own), *more)


# What each function's artifact must not hold: the other entry points (the commands take up
# held deliveries through the intake's forms, so they carry that part of it).
NOT_CARRIED: dict[str, tuple[str, ...]] = {
    "IntakeFunction": _others("functions/intake", "functions/openapi.py"),
    "CommandsFunction": (
        "functions/queries",
        "functions/projector",
        "functions/lifecycle",
        "functions/openapi.py",
        "functions/intake/app.py",
        "functions/intake/routes.py",
        "functions/intake/signatures.py",
    ),
    "QueriesFunction": _others("functions/queries"),
    "ProjectorFunction": _others("functions/projector", "functions/openapi.py"),
    **{function: _others("functions/lifecycle", "functions/openapi.py") for function in LIFECYCLE},
}
# The failure recorder of the state machine needs neither the domain nor any adapter.
NOT_CARRIED["RecordFailureFunction"] += ("domain", "events", "infra", "functions/common")

_LOADED = """
import importlib, json, sys
PROJECT = ("domain", "events", "functions", "infra", "programme")
loaded = {}
for module in MODULES:
    for name in [name for name in sys.modules if name.partition(".")[0] in PROJECT]:
        del sys.modules[name]
    importlib.import_module(module)
    loaded[module] = sorted(
        getattr(sys.modules[name], "__file__", None) or ""
        for name in sys.modules
        if name.partition(".")[0] in PROJECT
    )
print(json.dumps(loaded))
"""


@pytest.fixture(scope="module")
def artifacts() -> dict[str, Path]:
    return built_artifacts()


@pytest.fixture(scope="module")
def loaded() -> dict[str, set[str]]:
    """Each handler module -> the project files it loads when imported (the editable install;
    the project's modules are forgotten between handlers, in one interpreter)."""
    modules = sorted(set(function_handlers().values()))
    done = subprocess.run(
        [sys.executable, "-c", f"MODULES = {modules!r}\n" + _LOADED],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    found = json.loads(done.stdout.splitlines()[-1])
    return {
        module: {Path(file).relative_to(ROOT).as_posix() for file in files if file}
        for module, files in found.items()
    }


def _template() -> dict[str, Any]:
    return load_template(ROOT / "template.yaml")


def test_every_function_is_built_from_its_own_handler() -> None:
    # GIVEN the Makefile's handler of each function's build target
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = dict(re.findall(r"^handler\.(\w+) := (\S+)$", makefile, re.M))
    # THEN it is the module of that function's Handler in the template, for every function
    assert targets == function_handlers()
    assert len(targets) >= 10


@pytest.mark.parametrize("function", sorted(function_handlers()))
def test_an_artifact_holds_what_its_handler_loads_and_nothing_it_cannot_import(
    function: str, artifacts: dict[str, Path], loaded: dict[str, set[str]]
) -> None:
    # GIVEN the function's artifact, built by its own target
    handler = function_handlers()[function]
    shipped = files_in(artifacts[function])
    can_import = {path.relative_to(ROOT).as_posix() for path in project_imports(handler).values()}
    data = {file for files in lambda_artifact.DATA_FILES.values() for file in files}
    # WHEN it is compared with what the handler loads on import, and can import lazily
    # THEN all of that is there (the lazy imports too), and nothing else of the project
    assert loaded[handler] <= shipped, sorted(loaded[handler] - shipped)
    assert can_import <= shipped, sorted(can_import - shipped)
    assert shipped <= can_import | (data & shipped), sorted(shipped - can_import)
    assert loaded[handler] <= can_import


@pytest.mark.parametrize("function", sorted(NOT_CARRIED))
def test_an_entry_point_does_not_carry_the_others(
    function: str, artifacts: dict[str, Path]
) -> None:
    # GIVEN / WHEN the function's artifact is built
    shipped = files_in(artifacts[function])
    # THEN none of what only the other entry points run is in it
    carried = sorted(
        file
        for file in shipped
        for part in NOT_CARRIED[function]
        if file == part or file.startswith(part + "/")
    )
    assert carried == []
    assert function_handlers()[function].replace(".", "/") + ".py" in shipped


def test_the_functions_test_table_names_every_function() -> None:
    assert set(NOT_CARRIED) == set(function_handlers())


def test_an_artifact_holds_modules_and_read_files_only(artifacts: dict[str, Path]) -> None:
    data = {file for files in lambda_artifact.DATA_FILES.values() for file in files}
    for function, artifact in artifacts.items():
        shipped = files_in(artifact)
        # THEN Python sources of the Lambda floors, and the files read at run time, only
        assert {file for file in shipped if not file.endswith(".py")} <= data, function
        assert {file.partition("/")[0] for file in shipped} <= set(
            lambda_artifact.LAMBDA_PACKAGES
        ), function
        assert not [file for file in shipped if file.startswith("infra/statemachines/")]


def test_the_walk_follows_lazy_relative_and_dynamic_imports_and_skips_type_checking(
    tmp_path: Path,
) -> None:
    # GIVEN a handler that imports one module at the top, one relatively, one lazily inside a
    # function, one through importlib, one only for the type checker, and one in a function
    # that never runs on Lambda
    sources = {
        "functions/__init__.py": "",
        "functions/x/__init__.py": "",
        "functions/x/app.py": (
            "from typing import TYPE_CHECKING\n"
            "import importlib\n"
            "from infra import top\n"
            "from . import sibling\n"
            "if TYPE_CHECKING:\n"
            "    from infra import typed\n"
            "def handler():\n"
            "    from infra.lazy import thing\n"
            "    importlib.import_module('domain.dynamic')\n"
        ),
        "functions/x/sibling.py": "",
        "functions/openapi.py": "def build_document():\n    import infra.generator\n",
        "functions/openapi.json": "{}",
        "functions/y.py": "from functions.openapi import DOCUMENT_PATH\n",
        "infra/__init__.py": "",
        "infra/top.py": "",
        "infra/typed.py": "",
        "infra/lazy.py": "",
        "infra/generator.py": "",
        "domain/__init__.py": "",
        "domain/dynamic.py": "",
        "domain/unused.py": "",
    }
    for name, text in sources.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    # WHEN the build script lists what the handler needs
    app = lambda_artifact.handler_files("functions.x.app", tmp_path)
    other = lambda_artifact.handler_files("functions.y", tmp_path)
    # THEN every import that can run is followed, with its packages' inits; nothing else
    assert app == [
        "domain/__init__.py",
        "domain/dynamic.py",
        "functions/__init__.py",
        "functions/x/__init__.py",
        "functions/x/app.py",
        "functions/x/sibling.py",
        "infra/__init__.py",
        "infra/lazy.py",
        "infra/top.py",
    ]
    # AND the document's generator's imports are not, its document is
    assert other == [
        "functions/__init__.py",
        "functions/openapi.json",
        "functions/openapi.py",
        "functions/y.py",
    ]


def test_the_build_script_needs_nothing_but_the_standard_library() -> None:
    # GIVEN the script sam build runs by path, under whatever python3 it finds
    tree = ast.parse(Path(lambda_artifact.__file__).read_text(encoding="utf-8"))
    # WHEN its imports are read
    imported = {
        name.partition(".")[0]
        for node in ast.walk(tree)
        for name in (
            [alias.name for alias in node.names]
            if isinstance(node, ast.Import)
            else [node.module or ""]
            if isinstance(node, ast.ImportFrom)
            else []
        )
    }
    # THEN each is the standard library's
    assert imported - {"__future__"} <= set(sys.stdlib_module_names)


def test_what_never_runs_on_lambda_is_imported_by_no_shipped_module() -> None:
    # GIVEN the functions whose imports the build does not follow (the document's generator)
    for module, names in lambda_artifact.NOT_ON_LAMBDA.items():
        path = ROOT.joinpath(*module.split(".")).with_suffix(".py")
        defined = {
            node.name
            for node in ast.parse(path.read_text(encoding="utf-8")).body
            if isinstance(node, ast.FunctionDef)
        }
        assert set(names) <= defined, f"{module} no longer defines {set(names) - defined}"
        # WHEN every module of the Lambda floors is read
        # THEN none imports them (so none can call them)
        users = [
            f"{source.relative_to(ROOT)} imports {alias.name}"
            for package in lambda_artifact.LAMBDA_PACKAGES
            for source in sorted((ROOT / package).rglob("*.py"))
            for node in ast.walk(ast.parse(source.read_text(encoding="utf-8")))
            if isinstance(node, ast.ImportFrom) and node.module == module
            for alias in node.names
            if alias.name in names or alias.name == "*"
        ]
        assert users == []


def test_every_function_has_the_dependencies_layer_built_for_its_runtime() -> None:
    # GIVEN the template
    template = _template()
    globals_ = template["Globals"]["Function"]
    resources = template["Resources"]
    layer = resources["DependenciesLayer"]
    # THEN every function gets the layer (Globals; no function drops it by its own Layers)
    assert {"Ref": "DependenciesLayer"} in globals_["Layers"]
    assert all(
        {"Ref": "DependenciesLayer"}
        in resources[f]["Properties"].get("Layers", [{"Ref": "DependenciesLayer"}])
        for f in function_handlers()
    )
    # AND the layer is built by requirements/Makefile for the functions' runtime and CPU
    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert layer["Metadata"]["BuildArchitecture"] == "arm64"
    properties = layer["Properties"]
    assert properties["ContentUri"].rstrip("/") == "requirements"
    assert properties["CompatibleRuntimes"] == [globals_["Runtime"]]
    assert properties["CompatibleArchitectures"] == globals_["Architectures"] == ["arm64"]
    # AND each function's own code is built in the checkout by its Makefile target
    for function in function_handlers():
        assert resources[function]["Metadata"]["BuildMethod"] == "makefile"
        assert resources[function]["Properties"]["CodeUri"] == "."


def test_the_layer_build_installs_the_lambda_lock_for_lambda(tmp_path: Path) -> None:
    # GIVEN the layer's build target, as sam build runs it (in requirements/)
    done = subprocess.run(
        ["make", "-n", "build-DependenciesLayer", f"ARTIFACTS_DIR={tmp_path}"],
        cwd=ROOT / "requirements",
        capture_output=True,
        text=True,
        check=True,
    )
    recipe = " ".join(done.stdout.replace("\\\n", " ").split())
    runtime = _template()["Globals"]["Function"]["Runtime"].removeprefix("python")
    # THEN it installs the hash-pinned Lambda lock, for Lambda's Python and CPU, into python/
    assert "pip install" in recipe
    for flag in (
        "--require-hashes",
        "--no-deps",
        "--only-binary=:all:",
        "--platform manylinux2014_aarch64",
        f"--python-version {runtime}",
        f'--target "{tmp_path}/python"',
    ):
        assert flag in recipe, flag
    assert re.search(r'-r "(\S*/)?lambda\.lock"', recipe), recipe
    assert "__pycache__" in recipe


def test_samconfig_builds_in_source_in_parallel_and_deploys_to_stockholm() -> None:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text(encoding="utf-8"))
    build = config["default"]["build"]["parameters"]
    assert build == {"build_in_source": True, "parallel": True, "cached": True}
    merged = {
        **config["default"]["global"]["parameters"],
        **config["default"]["deploy"]["parameters"],
    }
    assert merged["region"] == "eu-north-1"
    assert merged["stack_name"] == "programme-engine"
    assert set(merged["capabilities"].split()) == {"CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"}
    assert merged["resolve_s3"] is True
    assert merged["confirm_changeset"] is True
