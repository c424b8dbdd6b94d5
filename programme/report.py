"""Terminal rendering of a round from the API's read models, with rich.

Everything shown comes over HTTP, as a reporting tool would read it: the round
(`GET /rounds/{id}`), its audit trail (`GET /rounds/{id}/events`) and its agencies' rows of
the participation report (`GET /reports/participation.csv`). No personal data is in any.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.table import Table

from programme.client import ApiClient


@dataclass(frozen=True, slots=True)
class RoundReport:
    round: dict[str, Any]
    events: list[dict[str, Any]]
    rows: list[dict[str, str]]  # the round's rows of the participation report

    @property
    def state(self) -> str:
        return str(self.round["state"])


def fetch_report(api: ApiClient, round_id: str) -> RoundReport:
    """The round, its audit trail and its participation rows, from the API."""
    round_doc = api.get(f"/rounds/{round_id}")
    events: list[dict[str, Any]] = []
    after = 0
    while True:
        page = api.get(f"/rounds/{round_id}/events?after={after}")
        events += page["events"]
        if page.get("next_after") is None:
            break
        after = page["next_after"]
    report = api.request("GET", "/reports/participation.csv")
    rows = [
        row
        for row in csv.DictReader(io.StringIO(report.text.removeprefix("\ufeff")))
        if row["round_id"] == round_id
    ]
    return RoundReport(round_doc, events, rows)


def history_table(round_id: str, events: list[dict[str, Any]]) -> Table:
    table = Table(title=f"Audit trail (GET /rounds/{round_id}/events)", expand=True)
    table.add_column("v", justify="right", style="dim")
    table.add_column("occurred", no_wrap=True)
    table.add_column("event", style="bold")
    table.add_column("actor", overflow="fold")
    for entry in events:
        table.add_row(
            str(entry["version"]), str(entry["occurred_at"])[:10], entry["type"], entry["actor"]
        )
    return table


def round_table(report: RoundReport) -> Table:
    round_doc = report.round
    table = Table(
        title=(
            f"Round {round_doc['round_id']} — {round_doc['title']}: [bold]{report.state}[/bold]"
            f"  (applied {round_doc['applied']}, admitted {round_doc['admitted']},"
            f" {len(round_doc['pairs'])} pairs)"
        ),
        expand=True,
    )
    for column in ("org number", "agency", "application", "pair", "theme", "plan", "presented"):
        table.add_column(column, no_wrap=column in {"org number", "pair"})
    for row in report.rows:
        plan = row["plan_submitted_at"][:10]
        table.add_row(
            row["org_number"],
            row["agency_name"],
            row["status"],
            row["pair_id"],
            row["theme"],
            f"{plan} late" if plan and row["plan_late"] == "true" else plan,
            "yes" if row["presented"] == "true" else "",
        )
    return table


def print_report(console: Console, report: RoundReport, execution: str | None = None) -> None:
    console.print(history_table(str(report.round["round_id"]), report.events))
    console.print(round_table(report))
    refused = sum(1 for entry in report.events if entry["type"] == "ApplicationRefused")
    ran = f"; its state machine execution {execution}" if execution else ""
    console.print(
        f"{len(report.events)} events in the audit trail; {refused} refused application "
        f"recorded; final state: [bold]{report.state}[/bold]{ran}"
    )
