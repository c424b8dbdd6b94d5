"""`programme serve` and `programme demo`: the local stack at a terminal.

One readable line per HTTP request; the handlers' Powertools JSON logs only from WARNING up;
moto's and boto's own chatter silenced. Ctrl-C (SIGINT) or SIGTERM stops everything the stack
started and exits 0.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Final

from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from infra.clock import Clock
from programme.client import ApiClient, UnexpectedReplyError
from programme.report import RoundReport, fetch_report, print_report
from programme.round3 import data as r3
from programme.round3.loader import Round3Loader, StateMachineTimeoutError
from programme.stack import clock as clocks
from programme.stack.clock import LocalClock
from programme.stack.data_dir import DataDir, DataDirError
from programme.stack.environment import InvalidSecretError, WebhookSecrets, webhook_secrets
from programme.stack.stack import LocalStack, StackInfo

DEMO_CLOCK: Final = f"manual:{r3.SCHEDULED_ON.strftime('%Y-%m-%dT%H:%M:%SZ')}"
QUIET_LOGGERS: Final = ("werkzeug", "botocore", "boto3", "urllib3", "moto")


class Stopped(BaseException):  # a signal, like KeyboardInterrupt: not an error
    """SIGINT or SIGTERM arrived: stop the stack and exit 0."""


def serve_command(
    port: int, clock_option: str | None, demo: bool, data: str | None = None, fresh: bool = False
) -> int:
    """`programme serve`: the stack until Ctrl-C; with `demo`, round 3 loaded first (into an
    empty data folder only); with `data`, what it acknowledged is kept there across restarts."""
    console = _console()
    _configure_logging(console)
    try:
        folder = _data_dir(data, fresh)
        if demo and folder is not None and not folder.is_empty():
            console.print(
                f"{folder.path} already holds a system: round 3 is not loaded again "
                "(--fresh starts afresh)"
            )
            demo = False
            clock_option = clock_option or clocks.WALL
        clock_option = clock_option or (DEMO_CLOCK if demo else clocks.WALL)
        clock = clocks.parse_clock(clock_option)
        if demo:
            _check_demo_clock(clock)
        secrets = webhook_secrets() if folder is None else folder.secrets()
    except (ValueError, InvalidSecretError, DataDirError) as error:
        console.print(f"[red]programme serve: {error}[/red]")
        return 2
    loading = "round 3 of 2015 (the demo)" if demo else None
    stack = LocalStack(
        port=port,
        clock=clock,
        secrets=secrets,
        loading=loading,
        data=folder,
        on_restore=_restore_progress(console),
    )
    with _stopped_by_signals():
        try:
            info = _start(console, stack)
            if info is None:
                return 1
            print_where(console, info, secrets, clock, demo=demo)
            if demo:
                if not isinstance(clock, clocks.DemoClock):
                    raise TypeError("the demo needs a manual clock (--clock manual:<ISO>)")
                try:
                    _demo(console, info, clock)
                except (StateMachineTimeoutError, UnexpectedReplyError) as error:
                    console.print(f"[red]the demo failed: {error}[/red]")
                    return 1
                clock.follow_wall_clock()
                stack.ready()
            console.print(
                f"[bold green]serving[/bold green] on {info.api_url} (clock: "
                f"{clocks.describe(clock)}) — Ctrl-C to stop"
            )
            logging.getLogger("programme").setLevel(logging.INFO)
            threading.Event().wait()  # until a signal raises Stopped
        except Stopped:
            pass
        finally:
            _stop(console, stack)
    return 0


def _data_dir(data: str | None, fresh: bool) -> DataDir | None:
    if data is None:
        return None
    folder = DataDir(Path(data))
    if fresh:
        folder.wipe()
    folder.is_empty()  # opens the journal: one that is not a journal is refused here, not later
    return folder


def _restore_progress(console: Console) -> Callable[[int, int], None]:
    def report(done: int, total: int) -> None:
        console.print(f"restoring from the journal: {done}/{total} writes", highlight=False)

    return report


def demo_command(port: int) -> int:
    """`programme demo`: round 3 through a fresh stack, the report printed, then exit."""
    console = _console()
    _configure_logging(console)
    logging.getLogger("programme").setLevel(logging.WARNING)  # no request lines: not a server
    clock = clocks.DemoClock(r3.SCHEDULED_ON)
    stack = LocalStack(port=port, clock=clock, secrets=webhook_secrets({}))
    with _stopped_by_signals():
        try:
            info = _start(console, stack)
            if info is None:
                return 1
            report = _demo(console, info, clock)
        except (StateMachineTimeoutError, UnexpectedReplyError) as error:
            console.print(f"[red]the demo failed: {error}[/red]")
            return 1
        except Stopped:
            console.print("stopped before the demo finished")
            return 130
        finally:
            _stop(console, stack)
    return 0 if report.state == "closed" else 1


def _demo(console: Console, info: StackInfo, clock: LocalClock) -> RoundReport:
    api = ApiClient(info.api_url, info.secrets)
    started = time.perf_counter()
    with _requests_unlogged():
        load_round_3(console, api, clock)
        walked = time.perf_counter() - started
        report = fetch_report(api, r3.ROUND_ID)
    print_report(console, report, _execution_status(info))
    console.print(f"round 3 of 2015 walked through the HTTP API in {walked:.1f} s")
    return report


def load_round_3(console: Console, api: ApiClient, clock: LocalClock) -> None:
    """Round 3 through the API, with a progress line per step."""
    steps = Round3Loader(api, clock).steps()
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("Round 3 of 2015", total=len(steps))
        for description, step in steps:
            progress.update(task, description=description)
            step()
            progress.advance(task)
        progress.update(task, description="Round 3 of 2015 walked to closed")


@contextmanager
def _requests_unlogged() -> Iterator[None]:
    """The demo's own requests and the scheduler's runs are not logged line by line."""
    programme = logging.getLogger("programme")
    level = programme.level
    programme.setLevel(logging.WARNING)
    try:
        yield
    finally:
        programme.setLevel(level)


def print_where(
    console: Console, info: StackInfo, secrets: WebhookSecrets, clock: Clock, *, demo: bool
) -> None:
    """Where everything is, and how to call it: one line each, so each can be copied."""
    lines = [
        ("HTTP API", info.api_url),
        ("moto (AWS)", f"{info.moto_url}  (region {info.region}, any credentials)"),
        *((logical_id, f"DynamoDB table {name}") for logical_id, name in info.tables.items()),
        ("PersonalDataKey", f"KMS key {info.personal_data_key_id}"),
        *info.queues.items(),
        ("state machine", info.state_machine_arn),
        ("event stream", f"{info.stream_arn} -> projector, lifecycle starter"),
        *(
            (
                "scheduler",
                f"{job.function} daily at {job.hour:02d}:{job.minute:02d} {job.zone}, "
                "program time (and once at start)",
            )
            for job in info.jobs
        ),
        ("clock", clocks.describe(clock)),
        (
            "data",
            "in memory: gone when it stops (--data DIR keeps it)"
            if info.data_dir is None
            else f"{info.data_dir}  ({info.restored} writes restored)",
        ),
        *(
            (
                name,
                f"{value}  (generated)"
                if name in secrets.generated
                else f"{value}  (kept in {info.data_dir})"
                if name in secrets.kept
                else "(from the environment)",
            )
            for name, value in secrets.as_environment().items()
        ),
    ]
    width = max(len(name) for name, _ in lines)
    console.print("[bold]programme-engine: the local stack[/bold]")
    for name, value in lines:
        console.print(f"  {name:<{width}}  {value}", highlight=False, soft_wrap=True)
    audit = [f"/rounds/{r3.ROUND_ID}/events"] if demo else []
    console.print("Try:", highlight=False)
    for path in ("/rounds", *audit, "/reports/participation.csv", "/openapi.json"):
        console.print(f"  curl -s {info.api_url}{path}", highlight=False, soft_wrap=True)


def _start(console: Console, stack: LocalStack) -> StackInfo | None:
    started = time.perf_counter()
    try:
        with console.status("Starting the local stack: moto, tables, state machine, handlers…"):
            info = stack.start()
    except DataDirError as error:
        console.print(f"[red]programme serve: {error}[/red]")
        return None
    except OSError as error:
        console.print(
            f"[red]cannot serve on 127.0.0.1:{stack.port}: {error.strerror or error}[/red] "
            "(choose another with --port or PORT)"
        )
        return None
    console.print(f"local stack up in {time.perf_counter() - started:.1f} s")
    return info


def _stop(console: Console, stack: LocalStack) -> None:
    # No spinner here: its thread would count as one the stack left running.
    console.print("stopping: HTTP API, stream pump, scheduler, executions, moto…")
    lingering = stack.stop()
    if lingering:
        console.print(f"[yellow]stopped; threads still running: {', '.join(lingering)}[/yellow]")
    else:
        console.print("stopped cleanly: no thread left running")


def _execution_status(info: StackInfo) -> str | None:
    import boto3

    sfn = boto3.client("stepfunctions", region_name=info.region, endpoint_url=info.moto_url)
    try:
        listed = sfn.list_executions(stateMachineArn=info.state_machine_arn)["executions"]
    finally:
        sfn.close()
    found = [e for e in listed if e["name"] == r3.ROUND_ID]
    return f"{r3.ROUND_ID} {found[0]['status']}" if found else None


def _check_demo_clock(clock: Clock) -> None:
    if not isinstance(clock, clocks.DemoClock) or clock() > r3.SCHEDULED_ON:
        raise ValueError(
            f"--demo walks round 3 from {r3.SCHEDULED_ON:%Y-%m-%d}: it needs --clock "
            f"manual:<an instant no later> (the default with --demo is {DEMO_CLOCK})"
        )


def _console() -> Console:
    console = Console()
    if not console.is_terminal:  # piped to a file: tables as wide as they need
        console = Console(width=132)
    return console


def _configure_logging(console: Console) -> None:
    handler = RichHandler(console=console, show_path=False, markup=False, log_time_format="%X")
    programme = logging.getLogger("programme")
    programme.handlers[:] = [handler]
    programme.setLevel(logging.INFO)
    programme.propagate = False
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    # Powertools warns when a disabled Metrics object is given a dimension twice: noise here.
    warnings.filterwarnings("ignore", message="Dimension .* has already been added")
    warnings.filterwarnings("ignore", message="No application metrics to publish")


@contextmanager
def _stopped_by_signals() -> Iterator[None]:
    """The first SIGINT or SIGTERM raises `Stopped` in the main thread; while the stack stops,
    a second is only acknowledged (a terminal's Ctrl-C may reach us twice), a third forces."""
    received: list[str] = []

    def stop(signum: int, _: FrameType | None) -> None:
        received.append(signal.Signals(signum).name)
        if len(received) == 1:
            raise Stopped(received[0])
        if len(received) == 2:
            print("still stopping; again to force", file=sys.stderr)
            return
        raise KeyboardInterrupt

    before = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)
