"""Round 3 of 2015, loaded through the local stack's HTTP API and closed by its state machine.

Local only: walking 2014 to 2015 in seconds needs the local stack's movable clock.
"""

from __future__ import annotations

import csv
import io
from collections import Counter

from rich.console import Console

from programme.client import ApiClient
from programme.report import fetch_report, print_report
from programme.round3 import data as r3
from tests.e2e.targets import LocalRun

TRANSITIONS = [
    "ApplicationsOpened",
    "ApplicationsClosed",
    "RoundStarted",
    "PlanReminderIssued",
    "PlanDeadlinePassed",
    "RoundClosed",
]


def test_round_3_was_walked_to_closed_by_the_state_machine(local_stack: LocalRun) -> None:
    # GIVEN the local stack, round 3 loaded through its API
    api = local_stack.target

    # WHEN a reporting tool reads the round and its audit trail
    round_3 = api.get(f"/rounds/{r3.ROUND_ID}").json()
    trail = api.get(f"/rounds/{r3.ROUND_ID}/events").json()["events"]

    # THEN the round is closed, its six agencies admitted in three pairs, every plan in
    assert round_3["state"] == "closed"
    assert (round_3["applied"], round_3["admitted"]) == (6, 6)
    assert [pair["plan_status"] for pair in round_3["pairs"]] == ["submitted"] * 3
    assert {tuple(pair["org_numbers"]) for pair in round_3["pairs"]} == {
        members for members, _ in r3.PAIRS
    }
    # AND every transition was made once, in order, by the state machine
    by_scheduler = [e["type"] for e in trail if e["actor"] == "scheduler:round-lifecycle"]
    assert by_scheduler == TRANSITIONS
    counts = Counter(entry["type"] for entry in trail)
    assert (counts["AgencyApplied"], counts["ApplicationRefused"]) == (6, 1)
    assert counts["PairFormed"] == counts["PlanSubmitted"] == counts["PresentationRecorded"] == 3
    assert [entry["version"] for entry in trail] == list(range(1, len(trail) + 1))
    actors = {entry["actor"] for entry in trail}
    assert {"webhook:typeform", "webhook:forms"} <= actors


def test_the_rounds_list_and_the_participation_report_show_round_3_with_swedish_characters(
    local_stack: LocalRun,
) -> None:
    # WHEN Power BI or Excel reads the rounds and the participation report
    rounds = local_stack.target.get("/rounds")
    report = local_stack.target.get("/reports/participation.csv")

    # THEN round 3 is listed, its title intact
    (round_3,) = [item for item in rounds.json()["rounds"] if item["round_id"] == r3.ROUND_ID]
    assert (
        round_3["title"] == "Utvecklingsprogrammet för strategisk verksamhetsutveckling, omgång 3"
    )
    assert round_3["state"] == "closed"
    # AND the report is UTF-8 with a byte order mark, one row per agency of the round
    assert report.status == 200
    assert report.headers["content-type"] == "text/csv; charset=utf-8"
    assert report.body.startswith("\ufeff".encode())
    rows = [
        row
        for row in csv.DictReader(io.StringIO(report.text.removeprefix("\ufeff")))
        if row["round_id"] == r3.ROUND_ID
    ]
    names = {row["agency_name"] for row in rows}
    assert names == {agency.name for agency in r3.AGENCIES}
    assert {"Länsstyrelsen i Stockholms län", "Universitets- och högskolerådet"} <= names
    assert {row["theme"] for row in rows} == set(r3.THEMES)
    assert all(row["presented"] == "true" and row["plan_late"] == "false" for row in rows)


def test_the_demo_report_shows_round_3s_audit_trail_and_final_state(local_stack: LocalRun) -> None:
    # GIVEN the report `programme demo` prints, read over HTTP
    api = ApiClient(local_stack.info.api_url, local_stack.info.secrets)
    out = io.StringIO()

    # WHEN it is rendered
    print_report(Console(file=out, width=160), fetch_report(api, r3.ROUND_ID), "2015-3 SUCCEEDED")

    # THEN it shows the history, the agencies and the final state
    printed = out.getvalue()
    assert "RoundClosed" in printed
    assert "Länsstyrelsen i Stockholms län" in printed
    assert "final state: closed" in printed
