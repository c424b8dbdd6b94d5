"""`programme replay-failures`: drain the projector's on-failure queue (infra.readmodels.replay)."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Final

from infra.readmodels.failure_queue import VISIBILITY_SECONDS, FailureQueue, SqsFailureQueue
from infra.readmodels.replay import Replayed, Replayer
from infra.readmodels.stream_records import DynamoDBStreamRecords

if TYPE_CHECKING:
    from rich.console import Console

QUEUE_URL_VARIABLE: Final = "PROJECTOR_FAILURE_QUEUE_URL"


def add_replay_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--queue-url",
        default=os.environ.get(QUEUE_URL_VARIABLE),
        help=(
            "the projector's on-failure queue: the stack's ProjectorFailureQueueUrl output "
            f"(default: ${QUEUE_URL_VARIABLE})"
        ),
    )
    parser.add_argument(
        "--wait",
        type=int,
        default=1,
        help="seconds to long-poll the queue before calling it empty (default 1)",
    )
    parser.add_argument(
        "--visibility",
        type=int,
        default=VISIBILITY_SECONDS,
        help=f"seconds a message is hidden while held (default {VISIBILITY_SECONDS})",
    )


def replay_failures_command(args: argparse.Namespace) -> int:
    """Drain the projector's on-failure queue on the tables the environment names."""
    import boto3
    from rich.console import Console

    from functions.common import bootstrap
    from functions.common.settings import settings
    from infra.readmodels.rebuild import DynamoDBStreamSource
    from infra.readmodels.views import VIEWS

    console = Console()
    if not args.queue_url:
        console.print(f"[red]No queue: pass --queue-url or set {QUEUE_URL_VARIABLE}[/red]")
        return 2
    region = settings().region or None
    queue = SqsFailureQueue(
        boto3.client("sqs", region_name=region),
        args.queue_url,
        visibility_seconds=args.visibility,
        wait_seconds=args.wait,
    )
    replayer = Replayer(
        VIEWS.values(),
        bootstrap.read_models(),
        DynamoDBStreamSource(bootstrap.dynamodb_client(), settings().require("event_store_table")),
        DynamoDBStreamRecords(boto3.client("dynamodbstreams", region_name=region)),
    )
    return run_replay(replayer, queue, console=console)


def run_replay(replayer: Replayer, queue: FailureQueue, *, console: Console) -> int:
    """Replay with a line per message and a summary; 0 when the queue was drained, else 1."""
    from rich.table import Table

    console.print("Replaying the projector's on-failure queue from the event store")
    with console.status("reading the queue…") as status:
        read: list[Replayed] = []

        def report(outcome: Replayed) -> None:
            read.append(outcome)
            streams = ", ".join(outcome.streams) or "none"
            if outcome.deleted:
                console.print(
                    f"[green]✓[/green] {outcome.message_id}: {streams} "
                    f"(by {outcome.found_by}), {outcome.events_applied} events applied — deleted"
                )
            else:
                console.print(f"[red]✗[/red] {outcome.message_id}: kept — {outcome.reason}")
            status.update(f"{len(read)} message(s) replayed; reading the queue…")

        summary = replayer.run(queue, report)
    table = Table(title="Replay of the projector's failures")
    table.add_column("messages read", justify="right")
    table.add_column("replayed and deleted", justify="right")
    table.add_column("kept", justify="right")
    table.add_column("streams caught up", justify="right")
    table.add_column("events applied", justify="right")
    table.add_row(
        str(len(summary.replayed)),
        str(len(summary.deleted)),
        str(len(summary.kept)),
        str(len(summary.streams)),
        str(summary.events_applied),
    )
    console.print(table)
    if not summary.replayed:
        console.print("The queue is empty: nothing to replay.")
        return 0
    if summary.kept:
        console.print(
            f"[red]{len(summary.kept)} message(s) kept on the queue, not replayed[/red]: fix what "
            "they name and run again"
        )
        return 1
    console.print(f"[green]All {len(summary.deleted)} message(s) replayed and deleted.[/green]")
    return 0
