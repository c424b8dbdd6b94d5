"""`programme rebuild [VIEW]`: replay the event store into fresh generations of the views.

Runs against the functions' environment (`EVENT_STORE_TABLE`, `READ_MODEL_TABLE`, the AWS
region and credentials; `AWS_ENDPOINT_URL` for the local stack) while the system keeps
taking writes: the projector feeds the new generation too, readers switch when it is
complete, and the replaced generation is deleted after a grace period (readers cache the
active generation for a few seconds).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Final

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from infra.readmodels.views import VIEWS

if TYPE_CHECKING:
    from infra.readmodels.rebuild import Progress as Replayed
    from infra.readmodels.rebuild import StreamSource
    from infra.readmodels.store import ReadModelStore
    from infra.readmodels.view import View

GRACE_SECONDS: Final = 15.0
"""Longer than readers cache the active generation (`DynamoDBReadModelStore`: 10 s)."""


def add_rebuild_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "view", nargs="?", choices=sorted(VIEWS), help="the view to rebuild (default: all)"
    )
    parser.add_argument(
        "--grace",
        type=float,
        default=GRACE_SECONDS,
        help=f"seconds before deleting the replaced generation (default {GRACE_SECONDS:g})",
    )
    parser.add_argument(
        "--keep-old", action="store_true", help="keep the replaced generation's items"
    )


def rebuild_command(args: argparse.Namespace) -> int:
    """Rebuild one view or all of them on the tables the environment names."""
    from functions.common import bootstrap
    from functions.common.settings import settings
    from infra.readmodels.rebuild import DynamoDBStreamSource

    views = [VIEWS[args.view]] if args.view else list(VIEWS.values())
    source = DynamoDBStreamSource(
        bootstrap.dynamodb_client(), settings().require("event_store_table")
    )
    return run_rebuild(
        views,
        bootstrap.read_models(),
        source,
        console=Console(),
        grace=args.grace,
        keep_old=args.keep_old,
    )


def run_rebuild(
    views: Sequence[View],
    store: ReadModelStore,
    source: StreamSource,
    *,
    console: Console,
    grace: float = GRACE_SECONDS,
    keep_old: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Start, replay with a progress bar, switch, then (after `grace`) drop the old generations."""
    from infra.readmodels.rebuild import Rebuilder

    rebuilder = Rebuilder(views, store, source)
    started = rebuilder.start()
    names = ", ".join(started.generations)
    console.print(f"Rebuilding [bold]{names}[/bold] while writes go on")
    begun = time.perf_counter()
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("events"),
        EventRateColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("replaying", total=None)

        def report(done: Replayed) -> None:
            bar.update(
                task,
                completed=done.events_done,
                total=done.events_total,
                description=f"streams {done.streams_done}/{done.streams_total}",
            )

        replayed = rebuilder.replay(started.generations, report)
    seconds = time.perf_counter() - begun
    previous = rebuilder.switch(started.generations)
    console.print(_summary(started.generations, previous))
    rate = replayed.events_done / seconds if seconds > 0 else 0.0
    console.print(
        f"{replayed.events_done} events of {replayed.streams_total} streams in "
        f"{seconds:.1f} s ({rate:,.0f} events/s); readers now use the new generations"
    )
    old = [*previous.items(), *started.abandoned.items()]
    if keep_old:
        kept = ", ".join(f"{name} {generation}" for name, generation in old)
        console.print(f"Kept the replaced generations: {kept}")
        return 0
    if grace > 0:
        with console.status(f"Waiting {grace:g} s for readers to move over…"):
            sleep(grace)
    console.print(f"Deleted {rebuilder.drop(old)} items of the replaced generations")
    return 0


class EventRateColumn(ProgressColumn):
    """Events per second, as rich measures the task's speed."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.0f}/s", style="progress.data.speed")


def _summary(generations: Mapping[str, int], previous: Mapping[str, int]) -> Table:
    table = Table(title="Read-model generations")
    table.add_column("view")
    table.add_column("was", justify="right")
    table.add_column("now", justify="right")
    for name, generation in generations.items():
        table.add_row(name, str(previous[name]), str(generation))
    return table
