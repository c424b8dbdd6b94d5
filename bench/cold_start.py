"""Cold start of every Lambda entry point, and what its deployment package weighs.

    .venv/bin/python bench/cold_start.py [--runs 7] [--no-imports] [--no-package]

Imports. Each entry point of `template.yaml` (its `Handler`'s module) is imported in a fresh
interpreter with `python -X importtime`, as is `boto3` alone, round-robin so that the load
of the machine falls on all of them alike; one warm-up round first writes the bytecode
caches (as `pip install` does for a package), the next `--runs` are measured. An import's
time is the sum of the cumulative times of the top-level imports `-X importtime` reports
after the interpreter's own start-up (a marker is written before the import), so what
`site` and the `-c` harness load is not counted, and boto3 is measured by the same rule.
The ratio is the median of the entry point over the median of boto3. "packages" splits
the median run by top-level package (each module's self time), heaviest first.

Twice: as here (no `LAMBDA_TASK_ROOT`: Powertools' Tracer is off), and as on Lambda with
tracing on (`LAMBDA_TASK_ROOT` set, `POWERTOOLS_TRACE_DISABLED` unset: the X-Ray SDK and
its patching of botocore are imported, as every function deployed with `Tracing: Active`
does). Measured on this machine's Python with cached bytecode, for entry point and boto3
alike. On Lambda the artifact has no bytecode and /var/task is read-only, so every module
imported from it is also compiled at each cold start: absolute figures there differ.

Package. `make build-IntakeFunction` (the SAM `BuildMethod: makefile` target every function
uses) into a temporary directory: the project's packages plus `requirements/lambda.lock`'s
wheels for manylinux2014_aarch64 / CPython 3.13, downloaded from PyPI. Reported: the
unzipped size (Lambda's limit is 250 MB) and zipped (the upload), without boto3, botocore
and s3transfer (which the Python runtime also provides), and per distribution. Then every
entry point is imported from the artifact in a fresh interpreter that has no other copy of
the project and can import no package outside the Lambda lock (the check of
tests/infra/test_lambda_package.py, run on the real artifact).
"""

from __future__ import annotations

import argparse
import io
import os
import re
import statistics
import subprocess
import sys
import tempfile
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from _common import ROOT, console, header, ratio, table
from rich.table import Table

MARK = "@@cold-start-mark"
BASELINE = "boto3"
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer")
LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \| ( *)(\S+)")


@dataclass(frozen=True)
class Run:
    total_ms: float
    by_package_ms: dict[str, float]


def entry_points() -> dict[str, str]:
    """Function logical id -> the module its `Handler` names, as `template.yaml` declares."""
    from programme.template import load_template

    found = {}
    for name, resource in load_template()["Resources"].items():
        handler = resource.get("Properties", {}).get("Handler")
        if resource.get("Type") == "AWS::Serverless::Function" and handler:
            found[name] = handler.rsplit(".", 1)[0]
    return found


def environment(on_lambda: bool) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # the warm-up round writes the caches
    for name in ("LAMBDA_TASK_ROOT", "AWS_LAMBDA_FUNCTION_NAME", "AWS_SAM_LOCAL"):
        env.pop(name, None)
    if on_lambda:
        env.pop("POWERTOOLS_TRACE_DISABLED", None)
        env.update(
            LAMBDA_TASK_ROOT=str(ROOT),
            AWS_LAMBDA_FUNCTION_NAME="cold-start-bench",
            AWS_REGION=env.get("AWS_REGION", "eu-north-1"),
        )
    return env


def import_once(module: str, env: dict[str, str]) -> Run:
    code = f"import sys; sys.stderr.write({MARK!r} + '\\n'); sys.stderr.flush(); import {module}"
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0 or MARK not in done.stderr:
        raise SystemExit(f"import {module} failed:\n{done.stderr[-3000:]}")
    total = 0
    by_package: dict[str, float] = defaultdict(float)
    for line in done.stderr.split(MARK, 1)[1].splitlines():
        found = LINE.match(line)
        if not found:
            continue
        own, cumulative, indent, name = found.groups()
        if not indent:
            total += int(cumulative)
        by_package[name.split(".")[0]] += int(own) / 1000
    return Run(total / 1000, dict(by_package))


def measure(modules: list[str], runs: int, on_lambda: bool) -> dict[str, list[Run]]:
    env = environment(on_lambda)
    found: dict[str, list[Run]] = {module: [] for module in modules}
    for round_ in range(runs + 1):
        for module in modules:
            run = import_once(module, env)
            if round_:  # round 0 warms the bytecode caches
                found[module].append(run)
    return found


def median_run(runs: list[Run]) -> Run:
    return sorted(runs, key=lambda run: run.total_ms)[len(runs) // 2]


def heaviest(run: Run, top: int = 5) -> str:
    ranked = sorted(run.by_package_ms.items(), key=lambda item: -item[1])[:top]
    return ", ".join(f"{name} {ms:.0f}" for name, ms in ranked)


def import_table(runs: int) -> Table:
    points = entry_points()
    modules = [BASELINE, *dict.fromkeys(points.values())]
    local = measure(modules, runs, on_lambda=False)
    lambda_like = measure(modules, runs, on_lambda=True)
    base = statistics.median(r.total_ms for r in local[BASELINE])
    base_on_lambda = statistics.median(r.total_ms for r in lambda_like[BASELINE])
    functions = defaultdict(list)
    for name, module in points.items():
        functions[module].append(name.removesuffix("Function"))
    left = ("entry point (functions)", "heaviest packages (self ms, median run)")
    result = table(
        f"Import time, median of {runs} fresh interpreters (-X importtime, ms)",
        (left[0], "ms", "/ boto3", "traced ms", "/ boto3", left[1]),
        left,
        title_justify="left",
    )
    result.columns[0].max_width = 44
    for module in modules:
        here = statistics.median(r.total_ms for r in local[module])
        traced = statistics.median(r.total_ms for r in lambda_like[module])
        label = module + (f" ({', '.join(functions[module])})" if module in functions else "")
        result.add_row(
            label,
            f"{here:.0f}",
            ratio(here, base),
            f"{traced:.0f}",
            ratio(traced, base_on_lambda),
            heaviest(median_run(local[module])),
        )
    result.caption = (
        "ms: as here (Tracer off); traced: as on Lambda with tracing on. "
        "Ratios against boto3 measured the same way in the same run."
    )
    return result


# The deployment package ----------------------------------------------------------------


INTAKE_HANDLER = "functions.intake.app"


def build_artifact(target: Path) -> None:
    done = subprocess.run(
        # The function's own code and the dependencies layer in one folder, as Lambda sees them.
        [
            "make",
            "--no-print-directory",
            "-s",
            "lambda-bundle",
            "FUNCTION=IntakeFunction",
            f"ARTIFACTS_DIR={target}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"make lambda-bundle failed:\n{done.stdout}\n{done.stderr}")


def tree_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def owners(artifact: Path) -> dict[str, str]:
    """Each top-level entry of the artifact -> the distribution that installed it (from the
    wheels' RECORD files), or the entry itself (the project's packages)."""
    found = {}
    for info in artifact.glob("*.dist-info"):
        distribution = info.name.split("-", 1)[0].lower().replace("_", "-")
        found[info.name] = distribution
        for row in (info / "RECORD").read_text(encoding="utf-8").splitlines():
            top = row.split(",", 1)[0].split("/", 1)[0]
            if top and top != "..":
                found.setdefault(top, distribution)
    return {entry.name: found.get(entry.name, entry.name) for entry in artifact.iterdir()}


def zipped_size(artifact: Path, skip: tuple[str, ...] = ()) -> int:
    owner = owners(artifact)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(artifact.rglob("*")):
            relative = path.relative_to(artifact)
            if path.is_file() and owner[relative.parts[0]] not in skip:
                archive.write(path, relative)
    return buffer.tell()


def package_tables(artifact: Path) -> list[Table]:
    sizes: dict[str, int] = defaultdict(int)
    files: dict[str, int] = defaultdict(int)
    for entry, owner in owners(artifact).items():
        path = artifact / entry
        sizes[owner] += tree_size(path)
        files[owner] += 1 if path.is_file() else sum(1 for p in path.rglob("*") if p.is_file())
    total = sum(sizes.values())
    without = total - sum(sizes.get(name, 0) for name in RUNTIME_PROVIDED)
    mb = 1024 * 1024
    summary = table(
        "Deployment package (one per function, all alike)",
        ("", "unzipped MB", "zipped MB"),
        left=("",),
        title_justify="left",
    )
    summary.add_row("whole artifact", f"{total / mb:.1f}", f"{zipped_size(artifact) / mb:.1f}")
    summary.add_row(
        "without " + ", ".join(RUNTIME_PROVIDED) + " (the runtime's own)",
        f"{without / mb:.1f}",
        f"{zipped_size(artifact, RUNTIME_PROVIDED) / mb:.1f}",
    )
    project = ("domain", "events", "functions", "infra")
    modules = sorted(
        p.relative_to(artifact) for name in project for p in (artifact / name).rglob("*.py")
    )
    infra = sorted({str(m.relative_to("infra").parent) for m in modules if m.parts[0] == "infra"})
    summary.caption = (
        f"the project: {sum(sizes.get(n, 0) for n in project) / 1024:.0f} KB, "
        f"{len(modules)} modules; infra's folders shipped: {', '.join(infra)}"
    )
    per_package = table(
        "Per distribution (top-level packages, modules and .dist-info)",
        ("distribution / project package", "KB", "files", "share"),
        left=("distribution / project package",),
        title_justify="left",
    )
    for name, size in sorted(sizes.items(), key=lambda item: -item[1]):
        per_package.add_row(name, f"{size / 1024:.0f}", str(files[name]), f"{size / total:.1%}")
    return [summary, per_package]


def artifact_check(artifact: Path) -> str:
    """The intake's handler imported from its bundle alone (the project is nowhere else)."""
    from tests.infra.test_lambda_package import import_from_artifacts

    problems = import_from_artifacts({artifact: INTAKE_HANDLER})[artifact]
    if problems:
        return "[red]artifact import check FAILED[/red]\n" + "\n".join(problems)
    return f"artifact import check: {INTAKE_HANDLER} imports from its bundle alone"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="measured imports per module")
    parser.add_argument("--no-imports", action="store_true", help="skip the import times")
    parser.add_argument("--no-package", action="store_true", help="skip building the package")
    args = parser.parse_args()
    out = console()
    header(out, "Cold start: import time per entry point, and the deployment package")
    if not args.no_imports:
        out.print(import_table(args.runs))
        out.print()
    if not args.no_package:
        with tempfile.TemporaryDirectory(prefix="lambda-artifact-") as tmp:
            artifact = Path(tmp)
            build_artifact(artifact)
            for printed in package_tables(artifact):
                out.print(printed)
                out.print()
            out.print(artifact_check(artifact))


if __name__ == "__main__":
    main()
