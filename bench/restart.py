"""Restart: how long `programme serve --data DIR` takes from spawn to ready, by events stored.

    .venv/bin/python bench/restart.py [--events 1000,10000] [--repeat 1]

For each size, a fresh data folder is filled with that many events, then served twice:

1. **Building the store** (not timed as a restart). The events are those `rebuild.py` makes:
   closed rounds of 97 events each (applications with sealed personal data, decisions,
   nominations, pairs, plans, presentations, the scheduled transitions). They are appended
   through the production event store (`DynamoDBEventStore.append`, at most 90 events a
   transaction, as a command appends) into moto in this process, with the local stack's
   journal hook installed on it (`journal_dynamodb_writes`): the journal holds the very
   TransactWriteItems requests the stack would have journaled, in seconds instead of the
   minutes the HTTP API would take (an application is several requests).
2. **First start** on that folder (`programme serve --port 0 --data DIR`, a real process): the
   journal is replayed, the stream pump reads the restored stream from its start and the
   projector writes every read model (journaled too), the lifecycle starter meets each
   round. The bench waits until the last round's audit trail (`GET /rounds/{id}/events`)
   lists all its events, then stops the process with SIGTERM. The journal now also holds the
   read models: what a store that served real traffic holds.
3. **Restart**, timed: spawn to the line `serving on http://…` (what tests/e2e/processes.py
   waits for; `GET /ready` answers 200 from then on), `--repeat` times, best kept. Then
   `GET /rounds` is asked once, to see that it answers with the restored rounds.

The table shows per size the journal's rows, the first start and the restart (seconds to
ready), and the restart's replay rate (journal rows per second).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import ROOT, console, header, table

SERVING = re.compile(r"serving on (http://127\.0\.0\.1:\d+)")
START_TIMEOUT = 600.0
CATCH_UP_TIMEOUT = 900.0
EVENTS_PER_APPEND = 90


@dataclass
class Outcome:
    events: int
    rounds: int
    rows_built: int
    build_seconds: float
    first_start: float
    caught_up: float
    rows: int
    restart: float
    listed: int


# Building the store


def build_store(data: Path, events: int) -> tuple[int, int, float]:
    """`events` events journaled into `data` as the local stack journals them: (rounds,
    journal rows, seconds)."""
    import boto3
    from moto import mock_aws
    from rebuild import meta, round_events

    from infra.eventstore import DynamoDBEventStore, NewEvent
    from programme.stack.data_dir import DataDir
    from programme.stack.journal import journal_dynamodb_writes
    from programme.stack.moto_dynamodb import serialise_moto_dynamodb
    from programme.template import create_tables, load_template

    began = time.perf_counter()
    folder = DataDir(data)
    journal = folder.journal()
    environment = {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "eu-north-1",
    }
    saved = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)
    undo = [journal_dynamodb_writes(journal), serialise_moto_dynamodb()]
    try:
        with mock_aws():
            client = boto3.client("dynamodb", region_name="eu-north-1")
            create_tables(client, load_template())
            store = DynamoDBEventStore(client, "EventStoreTable")
            written = rounds = 0
            while written < events:
                batch = list(round_events(rounds))[: events - written]
                for first in range(0, len(batch), EVENTS_PER_APPEND):
                    chunk = batch[first : first + EVENTS_PER_APPEND]
                    new = [NewEvent(e, meta(written + first + k)) for k, e in enumerate(chunk)]
                    store.append(f"round-r{rounds}", first, new)
                written += len(batch)
                rounds += 1
    finally:
        while undo:
            undo.pop()()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    rows = journal.count()
    journal.close()
    return rounds, rows, time.perf_counter() - began


def journal_rows(data: Path) -> int:
    with contextlib.closing(sqlite3.connect(data / "journal.sqlite3")) as db:
        (count,) = db.execute("SELECT COUNT(*) FROM requests").fetchone()
    return int(count)


# Serving it


class Serve:
    """`programme serve --port 0 --data DIR` in its own process, its output read by a thread."""

    def __init__(self, data: Path) -> None:
        environment = {k: v for k, v in os.environ.items() if not k.endswith("_SECRET")}
        self.began = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "programme.cli", "serve", "--port", "0", "--data", str(data)],
            cwd=ROOT,
            env={**environment, "COLUMNS": "200"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
        )
        self.lines: list[str] = []
        self.ready_after: float | None = None
        self.url = ""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if self.ready_after is None and (match := SERVING.search(line)):
                self.ready_after = time.perf_counter() - self.began
                self.url = match[1]
            self.lines.append(line)

    def ready(self) -> float:
        """Seconds from spawn to `serving on`, once it is printed."""
        deadline = time.monotonic() + START_TIMEOUT
        while self.ready_after is None:
            if self.process.poll() is not None or time.monotonic() > deadline:
                tail = "".join(self.lines[-20:])
                raise SystemExit(f"programme serve did not become ready:\n{tail}")
            time.sleep(0.005)
        return self.ready_after

    def get(self, path: str) -> object:
        with urllib.request.urlopen(self.url + path, timeout=60) as response:
            return json.loads(response.read())

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(timeout=5)


def trail(serve: Serve, round_id: str) -> int:
    count, after = 0, 0
    while True:
        page = serve.get(f"/rounds/{round_id}/events?after={after}&limit=500")
        assert isinstance(page, dict)
        count += len(page["events"])
        if page["next_after"] is None:
            return count
        after = page["next_after"]


def measure(events: int, repeat: int, status: Any) -> Outcome:
    from rebuild import round_events

    with tempfile.TemporaryDirectory(prefix="restart-data-") as folder:
        data = Path(folder) / "data"
        rounds, built, build_seconds = build_store(data, events)
        last = f"r{rounds - 1}"
        per_round = len(list(round_events(0)))  # every round has as many
        last_events = events - per_round * (rounds - 1)
        status.print(f"[dim]{events} events in {rounds} rounds: {built} journal rows…[/dim]")
        first = Serve(data)
        try:
            first_start = first.ready()
            deadline = time.monotonic() + CATCH_UP_TIMEOUT
            while True:
                with contextlib.suppress(OSError, ValueError):
                    if trail(first, last) >= last_events:
                        break
                if time.monotonic() > deadline:
                    raise SystemExit(f"the projector did not catch up in {CATCH_UP_TIMEOUT} s")
                time.sleep(0.5)
            caught_up = time.perf_counter() - first.began
        finally:
            first.stop()
        rows = journal_rows(data)
        restarts: list[float] = []
        listed = 0
        for _ in range(repeat):
            again = Serve(data)
            try:
                restarts.append(again.ready())
                found = again.get("/rounds")
                listed = len(found["rounds"]) if isinstance(found, dict) else 0
            finally:
                again.stop()
        return Outcome(
            events,
            rounds,
            built,
            build_seconds,
            first_start,
            caught_up,
            rows,
            min(restarts),
            listed,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", default="1000,10000", help="sizes, comma-separated")
    parser.add_argument("--repeat", type=int, default=1, help="restarts per size, best kept")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.events.split(",") if size]
    out = console()
    from rich.console import Console

    status = Console(file=sys.stderr)
    header(out, "Restart: programme serve --data DIR, spawn to ready, by events stored")
    outcomes = [measure(size, args.repeat, status) for size in sizes]
    result = table(
        "Restart of programme serve --data DIR (spawn → 'serving on', GET /ready 200)",
        [
            *("events", "rounds", "journal rows (events only)", "build s"),
            *("first start s", "projected after s", "journal rows", "restart s", "rows/s"),
        ],
    )
    for o in outcomes:
        result.add_row(
            f"{o.events:,}",
            str(o.rounds),
            f"{o.rows_built:,}",
            f"{o.build_seconds:.1f}",
            f"{o.first_start:.2f}",
            f"{o.caught_up:.1f}",
            f"{o.rows:,}",
            f"[bold]{o.restart:.2f}[/bold]",
            f"{o.rows / o.restart:,.0f}",
        )
    out.print(result)
    if len(outcomes) > 1:
        a, b = outcomes[0], outcomes[-1]
        out.print(
            f"growth {a.events:,} → {b.events:,} events: restart x {b.restart / a.restart:.2f} "
            f"(journal rows x {b.rows / a.rows:.2f})"
        )
    failures = [o for o in outcomes if not o.listed]
    for o in failures:
        status.print(
            f"[red]FAILED[/red] GET /rounds listed no round after the restart ({o.events})"
        )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
