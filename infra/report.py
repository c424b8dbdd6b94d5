"""Terminal rendering of a round: its final state and its event history, with rich."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from domain import RoundState
from events import SealedPersonalData
from infra.eventstore import RecordedEvent

_ENVELOPE = {"type", "schema_version", "due_at"}  # due_at is the row's own time


def describe(recorded: RecordedEvent) -> str:
    """One line of an event's facts; sealed personal data shows only as `sealed`."""
    parts: list[str] = []
    for name in type(recorded.event).model_fields:
        if name in _ENVELOPE:
            continue
        value: Any = getattr(recorded.event, name)
        if value is None or value == ():
            continue
        if isinstance(value, SealedPersonalData):
            value = "sealed"
        elif isinstance(value, tuple):
            value = ", ".join(str(item) for item in value)
        elif hasattr(value, "isoformat"):
            value = value.strftime("%Y-%m-%d")
        elif name.endswith("sha256"):
            value = f"{value[:12]}…"
        elif name == "document_url":
            continue
        parts.append(f"{name}={value}")
    return "  ".join(parts)


def history_table(history: tuple[RecordedEvent, ...]) -> Table:
    table = Table(title="Event history", show_lines=False, expand=True)
    table.add_column("v", justify="right", style="dim")
    table.add_column("occurred", no_wrap=True)
    table.add_column("event", style="bold")
    table.add_column("actor", no_wrap=True)
    table.add_column("facts", overflow="fold")
    for recorded in history:
        table.add_row(
            str(recorded.version),
            recorded.metadata.occurred_at.strftime("%Y-%m-%d"),
            recorded.event.type,
            recorded.metadata.actor,
            describe(recorded),
        )
    return table


def state_table(state: RoundState) -> Table:
    table = Table(
        title=f"Round {state.round_id} — {state.title}: [bold]{state.status}[/bold]", expand=True
    )
    table.add_column("org number", no_wrap=True)
    table.add_column("agency")
    table.add_column("application")
    table.add_column("pair")
    table.add_column("plan")
    table.add_column("presented")
    pair_of = {
        org: pair for pair in state.pairs.values() if not pair.dissolved for org in pair.org_numbers
    }
    for org, application in sorted(state.applications.items()):
        pair = pair_of.get(org)
        plan = pair.plan if pair else None
        table.add_row(
            org,
            application.agency_name,
            application.status,
            pair.pair_id if pair else "",
            plan.submitted_at.strftime("%Y-%m-%d") + (" late" if plan.late else "") if plan else "",
            pair.presented_at.strftime("%Y-%m-%d") if pair and pair.presented_at else "",
        )
    return table


def run_demo() -> int:
    from infra.demo import moto_dynamodb_store, walk_round_3

    # Wide enough for the history to read as one line an event, even when piped.
    console = Console(width=max(Console().width, 132))
    with (
        console.status("Walking round 3 of 2015 through the command handler…"),
        moto_dynamodb_store() as store,
    ):
        result = walk_round_3(store)
    console.print(history_table(result.history))
    console.print(state_table(result.state))
    refused = sum(1 for r in result.history if r.event.type == "ApplicationRefused")
    console.print(
        f"{len(result.history)} events on the DynamoDB event store (moto); "
        f"{refused} refused application recorded; final state: [bold]{result.state.status}[/bold]"
    )
    return 0 if result.state.status == "closed" else 1
