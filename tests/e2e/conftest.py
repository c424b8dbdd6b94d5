"""End to end, over HTTP only: the local stack started in this process, or a deployed stack.

The local stack is started once for the package, on free ports, with round 3 of 2015 loaded
through its HTTP API and walked to closed by its state machine (as `programme serve --demo`
does); the clock then follows the wall clock. Tests that hold for any deployment take the
`target` fixture: the local stack, and a deployed stack when `AWS_SAM_STACK_NAME` names one
(skipped otherwise, saying so).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from programme.client import ApiClient
from programme.round3 import data as r3
from programme.round3.loader import Round3Loader
from programme.stack.clock import DemoClock
from programme.stack.environment import webhook_secrets
from programme.stack.stack import LocalStack
from tests.domain.given import THEMES
from tests.e2e.targets import (
    DEPLOYED_REASON,
    STACK_VARIABLE,
    LocalRun,
    Target,
    deployed_target,
    poll_until,
    round_state,
)

OPEN_ROUND_TIMEOUT = 60.0  # a deployed stack's starter batches for up to a second, and so on

QUIET = pytest.mark.filterwarnings(
    # A disabled Metrics keeps its dimensions between invocations; on AWS, flushing clears them.
    "ignore:Dimension 'provider' has already been added"
)

FIGURES: list[str] = []
"""Measurements printed at the end of the run (the tests bound them; they do not time them)."""


@pytest.fixture(scope="package")
def local_stack() -> Iterator[LocalRun]:
    """The local stack with round 3 of 2015 loaded and closed; stopped after the package."""
    clock = DemoClock(r3.SCHEDULED_ON)
    stack = LocalStack(port=0, clock=clock, secrets=webhook_secrets({}))
    started = time.perf_counter()
    info = stack.start()
    try:
        up = time.perf_counter() - started
        Round3Loader(ApiClient(info.api_url, info.secrets), clock).load()
        loaded = time.perf_counter() - started - up
        clock.follow_wall_clock()
        FIGURES.append(f"local stack up in {up:.1f} s; round 3 of 2015 walked in {loaded:.1f} s")
        yield LocalRun(Target("local", info.api_url, info.secrets), info)
    finally:
        lingering = stack.stop()
    assert not lingering, f"the stack left threads running: {lingering}"


@pytest.fixture(scope="package")
def deployed_stack() -> Target:
    return deployed_target(os.environ[STACK_VARIABLE])


@pytest.fixture(
    scope="package",
    params=[
        "local",
        pytest.param(
            "deployed",
            marks=pytest.mark.skipif(not os.environ.get(STACK_VARIABLE), reason=DEPLOYED_REASON),
        ),
    ],
)
def target(request: pytest.FixtureRequest) -> Target:
    if request.param == "local":
        run: LocalRun = request.getfixturevalue("local_stack")
        return run.target
    deployed: Target = request.getfixturevalue("deployed_stack")
    return deployed


@pytest.fixture(scope="package")
def open_round(target: Target) -> Iterator[str]:
    """A new round whose applications opened long ago and close in 2099; cancelled afterwards."""
    round_id = f"e2e-{uuid.uuid4().hex[:12]}"
    scheduled = target.staff(
        "POST",
        "/rounds",
        {
            "round_id": round_id,
            "number": 900,
            "title": "End-to-end round",
            "capacity": 12,
            "themes": list(THEMES),
            "application_opens_at": "2001-01-01T09:00:00Z",
            "application_closes_at": "2099-01-01T17:00:00Z",
            "starts_at": "2099-02-01T09:00:00Z",
            "plan_due_at": "2099-06-01T17:00:00Z",
            "closes_at": "2099-12-01T17:00:00Z",
        },
    )
    assert scheduled.status == 201, scheduled.text
    poll_until(
        lambda: round_state(target, round_id) == "open",
        f"the state machine opened {round_id}",
        timeout=OPEN_ROUND_TIMEOUT,
    )
    yield round_id
    target.staff("POST", f"/rounds/{round_id}/cancel", {"reason": "end-to-end test done"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The end-to-end tests run last, whatever else runs with them.

    The local stack imports every handler's module under its own environment, and Powertools
    reads that (service name, log level) once, at import: the tests that import the same
    modules in their own setting must have done so first.
    """
    here = Path(__file__).parent
    end_to_end = [item for item in items if item.path.is_relative_to(here)]
    for item in end_to_end:
        item.add_marker(QUIET)
    items[:] = [item for item in items if not item.path.is_relative_to(here)] + end_to_end


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if FIGURES:
        terminalreporter.section("end-to-end figures")
        for line in FIGURES:
            terminalreporter.write_line(line)
