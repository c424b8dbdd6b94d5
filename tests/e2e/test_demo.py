"""`programme demo`: round 3 of 2015 from scheduling to closed, as a story and as a command."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

from domain import fold
from infra.eventstore import InMemoryEventStore
from programme.round3 import data as r3
from programme.round3.story import walk_round_3

ROOT = Path(__file__).resolve().parents[2]


def test_round_3_is_walked_to_closed_with_its_six_agencies_in_three_pairs() -> None:
    # WHEN round 3 is walked on the in-memory store
    result = walk_round_3(InMemoryEventStore())
    # THEN it is closed, every agency admitted and paired as in 2015, every plan presented
    assert result.state.status == "closed"
    admitted = {org for org, app in result.state.applications.items() if app.status == "admitted"}
    assert admitted == {agency.org_number for agency in r3.AGENCIES}
    formed = {(tuple(p.org_numbers), p.theme) for p in result.state.pairs.values()}
    assert formed == set(r3.PAIRS)
    assert all(
        p.plan is not None and p.presented_at is not None for p in result.state.pairs.values()
    )
    # AND the history holds the lifecycle in order and the organiser's recorded refusal
    types = [recorded.event.type for recorded in result.history]
    assert types[0] == "RoundScheduled"
    assert types[-1] == "RoundClosed"
    counts = Counter(types)
    assert counts["AgencyApplied"] == 6
    assert counts["ApplicationRefused"] == 1
    assert counts["PairFormed"] == 3
    assert counts["PlanSubmitted"] == 3
    assert [r.version for r in result.history] == list(range(1, len(result.history) + 1))
    # AND replaying the history rebuilds the same state
    assert fold(recorded.event for recorded in result.history) == result.state


def test_programme_demo_walks_round_3_through_the_local_stack_and_prints_it() -> None:
    # WHEN `programme demo` runs, as a person runs it
    done = subprocess.run(
        [sys.executable, "-m", "programme.cli", "demo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=180,
        check=False,
    )

    # THEN it walked round 3 to closed through the state machine, printed it and stopped clean
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "RoundClosed" in out
    assert "Länsstyrelsen i Stockholms län" in out
    assert "final state: closed; its state machine execution 2015-3 SUCCEEDED" in out
    assert "stopped cleanly: no thread left running" in out
