"""Peer comparison: one round workload on this engine's stores and on the `eventsourcing` library.

    .venv/bin/python bench/peers.py [--rounds 20] [--repeat 3]

The workload, per round: schedule it, open applications, 12 applications, close them,
12 decisions admitting every applicant, 6 pairs, start the round, 6 plans: 40 commands,
each recording one event (40 events a round). Then every round is loaded. Each command
loads its round, checks the rules and appends; no aggregate is cached between commands.

Each side runs without snapshots (every load folds the round's events from the first) and
with a snapshot after every event (each command records one):

- engine: `CommandHandler` (decide/evolve); with snapshots, given `round_state_snapshots()`,
  it keeps the round's state with every append, in the same atomic write, and loads from it.
- eventsourcing 9.5: the peer model (bench/peer_model.py), an `Application` with a
  `Round(Aggregate)` that records the same 40 events behind the same rules. Without snapshots its
  repository replays every event on each `get` (the library's defaults: no snapshots, no
  aggregate cache); with them, `snapshotting_intervals = {Round: 1}`: after each save the
  application gets the aggregate again (from its last snapshot) and puts a snapshot, in a
  second transaction, and `get` starts from the latest snapshot.

Stores, paired on equivalent storage:

- in memory: the engine's `InMemoryEventStore` against eventsourcing's popo recorders.
- SQLite: the engine's `SQLiteEventStore` against eventsourcing's SQLite recorders, each one
  database file in a temporary directory, both in WAL mode (eventsourcing sets it for a
  file), both at one synchronous level, checked on eventsourcing's own connection, twice:
  at the level eventsourcing ships with (it sets none and offers no setting: SQLite's
  default, FULL in this build, an fsync of the log at every commit), the engine's store
  given the same; and at NORMAL (fsync at checkpoints only), the engine store's default,
  which the bench gives eventsourcing by a PRAGMA on each connection its pool opens. At
  FULL the times are mostly the disk's fsyncs, and vary with it; NORMAL times the software.
- DynamoDB (moto), for reference only (no peer runs on it): the engine on
  `DynamoDBEventStore` under moto, one event-store table (the template's definition, less its
  stream) per round: moto's TransactWriteItems copies the whole table for every transaction,
  so one shared table would make the emulator's cost grow with every round written. "own" is
  the engine's time without the time inside moto.

Each variant runs `--repeat` times, interleaved (a, b, c, d, a, b, ...), and the median is
reported. The personal data is pre-sealed placeholder text on every side: no crypto.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache, partial
from importlib.metadata import version
from pathlib import Path
from typing import Any

from _common import (
    CIPHERTEXT,
    REGION,
    console,
    emulated_aws,
    event_store_table,
    header,
    median,
    ratio,
    table,
    timed,
    with_check_digit,
)
from peer_model import Round, Rounds, SnapshottingRounds
from rich.console import Console

from domain import (
    ApplyForRound,
    CloseApplications,
    DecideApplication,
    FormPair,
    OpenApplications,
    ScheduleRound,
    StartRound,
    SubmitPlan,
    decide,
    evolve,
)
from domain.streams import round_stream_id
from events import SealedPersonalData

AGENCIES = 12
THEMES = ("intern samverkan och vi-känsla", "digitalisering", "attraktiv arbetsgivare")
T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)
Results = dict[str, list[dict[str, float]]]  # variant -> its runs' figures


@dataclass(frozen=True)
class Plan:
    """One round's dates and agencies."""

    round_id: str
    number: int
    opens: datetime
    closes: datetime
    starts: datetime
    plan_due: datetime
    closes_at: datetime
    orgs: tuple[str, ...]

    def scheduled(self, themes: Any = THEMES) -> tuple[Any, ...]:
        """RoundScheduled's fields, in order."""
        return (
            self.round_id, self.number, f"Omgång {self.number}", AGENCIES, themes,
            self.opens, self.closes, self.starts, self.plan_due, self.closes_at,
        )  # fmt: skip


def plans(rounds: int) -> list[Plan]:
    out = []
    for n in range(rounds):
        start = T0 + timedelta(days=400 * n)
        orgs = tuple(with_check_digit(f"2023{n:02d}{m:03d}") for m in range(AGENCIES))
        d = [start + timedelta(days=days) for days in (30, 60, 90, 300, 350)]
        out.append(Plan(f"2030-{n + 1}", n + 1, d[0], d[1], d[2], d[3], d[4], orgs))
    return out


class Clock:
    """A clock the workload sets (rounds are written one after another, each from its start)."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


# ----------------------------------------------------------------------------- the engine


def round_commands(plan: Plan, clock: Clock) -> Iterator[Any]:
    """The round's 40 commands in order, the clock set to each one's instant before it."""
    rid = plan.round_id
    clock.now = plan.opens - timedelta(days=20)
    yield ScheduleRound(*plan.scheduled())
    clock.now = plan.opens
    yield OpenApplications(rid)
    for m, org in enumerate(plan.orgs):
        clock.now = plan.opens + timedelta(days=1, hours=m)
        sealed = SealedPersonalData(subject_id=f"subj-{m:032x}", ciphertext=CIPHERTEXT)
        yield ApplyForRound(
            rid, org, f"Myndighet {org}", sealed, sealed, (THEMES[m % 3],),
            clock.now, "typeform", delivery_id=f"tf-{rid}-{m}",
        )  # fmt: skip
    clock.now = plan.closes
    yield CloseApplications(rid)
    for m, org in enumerate(plan.orgs):
        yield DecideApplication(rid, org, "admit", f"ESV {rid}/{m}")
    for p in range(AGENCIES // 2):
        yield FormPair(rid, plan.orgs[2 * p : 2 * p + 2], THEMES[p % 3])
    clock.now = plan.starts
    yield StartRound(rid)
    clock.now = plan.plan_due - timedelta(days=3)
    for p in range(AGENCIES // 2):
        yield SubmitPlan(
            rid, f"pair-{p + 1}", "Strategisk utvecklingsplan",
            f"https://plans.example/{rid}/{p}.pdf", f"{p:064x}",
        )  # fmt: skip


def engine_workload(
    stores: Callable[[str], Any], rounds: list[Plan], *, snapshots: bool = False
) -> dict[str, float]:
    """Write every round through the command handler, then load each: seconds per phase (all,
    and without moto's share), and the events recorded.

    With `snapshots`, the handler keeps a snapshot of the round with every append, and both
    its commands and the load phase start from it (what `CommandHandler` does with a codec);
    without, every load folds the round's events from the first."""
    from infra.command_handler import CommandHandler

    codec = snapshot_codec() if snapshots else None
    clock = Clock()
    with timed() as wrote:
        for plan in rounds:
            store = stores(plan.round_id)
            handler = CommandHandler(
                store, decide, evolve, clock, lambda: uuid.uuid4().hex, snapshots=codec
            )
            stream = round_stream_id(plan.round_id)
            for command in round_commands(plan, clock):
                if not handler.handle(
                    command, stream_id=stream, actor="bench", correlation_id="b"
                ).events:
                    raise SystemExit(f"nothing recorded for {command}")
    with timed() as loaded:
        events = sum(engine_load(stores(plan.round_id), plan, codec) for plan in rounds)
    return {
        "write": wrote.seconds,
        "load": loaded.seconds,
        "events": events,
        "write_own": wrote.own,
        "load_own": loaded.own,
    }


def engine_load(store: Any, plan: Plan, codec: Any) -> int:
    """Load one round (from its snapshot, given a codec) and check it; its events."""
    loaded = store.load(round_stream_id(plan.round_id), codec.format if codec else None)
    state = codec.decode(loaded.snapshot.data) if codec and loaded.snapshot else None
    for recorded in loaded.events:
        state = evolve(state, recorded.event)
    if state is None or state.status != "running" or len(state.pairs) != AGENCIES // 2:
        raise SystemExit(f"round {plan.round_id} loaded wrong: {state}")
    return int(loaded.version)


@cache
def snapshot_codec() -> Any:
    """The round's snapshot codec, built (pydantic's schema and format digest) before any
    timing: a process pays that once, at its first command."""
    from infra.snapshots import round_state_snapshots

    codec = round_state_snapshots()
    _ = codec.format
    return codec


def engine_in_memory(rounds: list[Plan], *, snapshots: bool = False) -> dict[str, float]:
    from infra.eventstore import InMemoryEventStore

    store = InMemoryEventStore()
    return engine_workload(lambda _: store, rounds, snapshots=snapshots)


def engine_sqlite(
    rounds: list[Plan], *, snapshots: bool = False, synchronous: str | None = None
) -> dict[str, float]:
    """One database file for every round, as eventsourcing's; WAL (both), and by default the
    synchronous level eventsourcing runs at: it sets none, so SQLite's default."""
    from infra.eventstore.sqlite import SQLiteEventStore

    level = synchronous or sqlite_defaults()[1]
    if level not in ("NORMAL", "FULL"):
        raise SystemExit(f"SQLite's default synchronous is {level}: compare anew")
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory, "rounds.sqlite")
        store = SQLiteEventStore(path, synchronous="FULL" if level == "FULL" else "NORMAL")
        try:
            return engine_workload(lambda _: store, rounds, snapshots=snapshots)
        finally:
            store.close()


def engine_dynamodb(rounds: list[Plan], *, snapshots: bool = False) -> dict[str, float]:
    import boto3

    from infra.eventstore import DynamoDBEventStore

    client = boto3.client("dynamodb", region_name=REGION)
    run = uuid.uuid4().hex[:8]
    stores = {}
    for plan in rounds:
        name = f"events-{run}-{plan.round_id}"
        event_store_table(client, name)
        stores[plan.round_id] = DynamoDBEventStore(client, name)
    return engine_workload(lambda round_id: stores[round_id], rounds, snapshots=snapshots)


# ------------------------------------------------------------------------ eventsourcing


def eventsourcing_round(app: Rounds, plan: Plan) -> None:
    """The same 40 commands on the peer model, each a get, a rule check, an event, a save."""
    rid = plan.round_id
    app.schedule(*plan.scheduled(list(THEMES)))
    app.change(rid, Round.open_applications, plan.opens)
    for m, org in enumerate(plan.orgs):
        now = plan.opens + timedelta(days=1, hours=m)
        sealed = {"subject_id": f"subj-{m:032x}", "ciphertext": CIPHERTEXT}
        fields = {
            "agency_name": f"Myndighet {org}",
            "director_general": sealed,
            "contact": sealed,
            "themes": [THEMES[m % 3]],
            "submitted_at": now,
            "source": "typeform",
            "delivery_id": f"tf-{rid}-{m}",
        }
        app.change(rid, Round.apply, org, now, **fields)
    app.change(rid, Round.close_applications, plan.closes)
    for m, org in enumerate(plan.orgs):
        app.change(rid, Round.admit, org, f"ESV {rid}/{m}")
    for p in range(AGENCIES // 2):
        app.change(rid, Round.form_pair, list(plan.orgs[2 * p : 2 * p + 2]), THEMES[p % 3])
    app.change(rid, Round.start, plan.starts)
    for p in range(AGENCIES // 2):
        fields = {
            "title": "Strategisk utvecklingsplan",
            "document_url": f"https://plans.example/{rid}/{p}.pdf",
            "document_sha256": f"{p:064x}",
        }
        now = plan.plan_due - timedelta(days=3)
        app.change(rid, Round.submit_plan, f"pair-{p + 1}", now, **fields)


def eventsourcing_workload(
    env: dict[str, str],
    rounds: list[Plan],
    *,
    snapshots: bool = False,
    check: Callable[[Any], None] | None = None,
) -> dict[str, float]:
    app = (SnapshottingRounds if snapshots else Rounds)(env)
    with timed() as wrote:
        for plan in rounds:
            eventsourcing_round(app, plan)
    with timed() as loaded:
        for plan in rounds:
            aggregate: Round = app.repository.get(app.ids[plan.round_id])
            if aggregate.status != "running" or len(aggregate.pairs) != AGENCIES // 2:
                raise SystemExit(f"round {plan.round_id} loaded wrong")
    events = app.recorder.max_notification_id() or 0
    if snapshots and app.snapshots is None:
        raise SystemExit("eventsourcing: snapshotting is not enabled")
    if check is not None:
        check(app)
    app.close()
    return {"write": wrote.seconds, "load": loaded.seconds, "events": events}


SYNCHRONOUS_LEVELS = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}


@cache
def sqlite_defaults() -> tuple[str, str]:
    """The journal mode and synchronous level SQLite gives a new file connection that sets
    none (synchronous: this build's default), which is what eventsourcing gets, but WAL."""
    with tempfile.TemporaryDirectory() as directory:
        db = sqlite3.connect(Path(directory, "probe.sqlite"))
        try:
            db.execute("PRAGMA journal_mode = WAL")
            (level,) = db.execute("PRAGMA synchronous").fetchone()
        finally:
            db.close()
    return "wal", SYNCHRONOUS_LEVELS[level]


def runs_at(expected: tuple[str, str]) -> Callable[[Any], None]:
    """A check, on eventsourcing's own connection, of its journal mode and synchronous level."""

    def check(app: Any) -> None:
        with app.recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute("PRAGMA journal_mode")
            mode = cursor.fetchone()[0].lower()
            cursor.execute("PRAGMA synchronous")
            level = SYNCHRONOUS_LEVELS[cursor.fetchone()[0]]
        if (mode, level) != expected:
            raise SystemExit(f"eventsourcing's SQLite runs with {mode}, {level}, not {expected}")

    return check


@contextmanager
def eventsourcing_synchronous(level: str | None) -> Iterator[None]:
    """Every connection eventsourcing's SQLite pool opens meanwhile runs at `level` (None: as
    the library ships, at SQLite's default). The library has no setting for it: this sets
    the PRAGMA on each new connection, after the pool has set WAL."""
    if level is None:
        yield
        return
    from eventsourcing.sqlite import SQLiteConnectionPool

    create = SQLiteConnectionPool._create_connection

    def create_at_level(pool: SQLiteConnectionPool) -> Any:
        connection = create(pool)
        connection._sqlite_conn.execute(f"PRAGMA synchronous = {level}")
        return connection

    SQLiteConnectionPool._create_connection = create_at_level  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        SQLiteConnectionPool._create_connection = create  # type: ignore[method-assign]


def eventsourcing_popo(rounds: list[Plan], *, snapshots: bool = False) -> dict[str, float]:
    env = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    return eventsourcing_workload(env, rounds, snapshots=snapshots)


def eventsourcing_sqlite(
    rounds: list[Plan], *, snapshots: bool = False, synchronous: str | None = None
) -> dict[str, float]:
    """One database file; WAL (the library's pool sets it for a file), and the synchronous
    level the library ships with (it sets none) or, given one, that level."""
    mode, default = sqlite_defaults()
    check = runs_at((mode, synchronous or default))
    with tempfile.TemporaryDirectory() as directory, eventsourcing_synchronous(synchronous):
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": os.path.join(directory, "rounds.sqlite"),
        }
        return eventsourcing_workload(env, rounds, snapshots=snapshots, check=check)


# ------------------------------------------------------------------------------- report


@dataclass(frozen=True)
class Variant:
    """One row: who runs the workload, on which store and storage, with or without snapshots."""

    run: Callable[[list[Plan]], dict[str, float]]
    name: str
    storage: str
    snapshots: bool


MOTO = "DynamoDB (moto)"


def variants(mode: str, sync: str, levels: list[str]) -> dict[str, Variant]:
    """Every variant, in the order they run and are printed (a key per variant)."""
    mem, es_mem = "engine InMemoryEventStore", "eventsourcing popo"
    sql, es_sql = "engine SQLiteEventStore", "eventsourcing SQLite"
    ddb = "engine DynamoDBEventStore"
    found = {
        "mem": Variant(engine_in_memory, mem, "memory", False),
        "popo": Variant(eventsourcing_popo, es_mem, "memory", False),
        "mem+s": Variant(partial(engine_in_memory, snapshots=True), mem, "memory", True),
        "popo+s": Variant(partial(eventsourcing_popo, snapshots=True), es_mem, "memory", True),
    }
    for level in levels:
        storage = f"SQLite {mode.upper()} {level}"
        peer_level = None if level == sync else level
        for snapshots in (False, True):
            suffix = f"{level}+s" if snapshots else level
            engine = partial(engine_sqlite, snapshots=snapshots, synchronous=level)
            peer = partial(eventsourcing_sqlite, snapshots=snapshots, synchronous=peer_level)
            found[f"sql-{suffix}"] = Variant(engine, sql, storage, snapshots)
            found[f"es-sql-{suffix}"] = Variant(peer, es_sql, storage, snapshots)
    found["ddb"] = Variant(engine_dynamodb, ddb, MOTO, False)
    found["ddb+s"] = Variant(partial(engine_dynamodb, snapshots=True), ddb, MOTO, True)
    return found


def run_interleaved(chosen: dict[str, Variant], rounds: list[Plan], repeat: int) -> Results:
    """Each variant `repeat` times, interleaved (a, b, c, a, b, c, ...), under moto."""
    results: Results = {key: [] for key in chosen}
    with emulated_aws():
        for _ in range(repeat):
            for key, variant in chosen.items():
                results[key].append(variant.run(rounds))
    return results


def med(results: Results, key: str, value: str) -> float:
    return median(run[value] for run in results[key])


def print_times(
    out: Console, chosen: dict[str, Variant], results: Results, levels: list[str], args: Any
) -> None:
    def snapshots_of(variant: Variant) -> str:
        if not variant.snapshots:
            return "none"
        return "every append" if variant.name.startswith("engine") else "every event"

    commands = args.rounds * 40
    times = table(
        f"{args.rounds} rounds x 40 commands (12 agencies, 6 pairs), then every round "
        f"loaded; median of {args.repeat} runs",
        ("storage", "store", "snapshots", "write s", "ms/cmd", "load ms", "events",
         "own write s", "own load ms"),
        left=("storage", "store", "snapshots"),
    )  # fmt: skip
    for key, variant in chosen.items():
        own = key.startswith("ddb")
        if key in {"ddb", *(f"sql-{level}" for level in levels)}:
            times.add_section()
        times.add_row(
            variant.storage,
            variant.name,
            snapshots_of(variant),
            f"{med(results, key, 'write'):.3f}",
            f"{med(results, key, 'write') / commands * 1000:.2f}",
            f"{med(results, key, 'load') * 1000:.1f}",
            f"{med(results, key, 'events'):.0f}",
            f"{med(results, key, 'write_own'):.3f}" if own else "",
            f"{med(results, key, 'load_own') * 1000:.1f}" if own else "",
        )
    out.print(times)


def print_ratios(
    out: Console, chosen: dict[str, Variant], results: Results, levels: list[str], sync: str
) -> None:
    ratios = table(
        "Ratios: engine time / eventsourcing time (< 1: the engine is faster)",
        ("storage", "engine / eventsourcing", "snapshots", "write", "load all"),
        left=("storage", "engine / eventsourcing", "snapshots"),
    )

    def of(engine: str, peer: str, *, own: bool = False) -> tuple[str, str]:
        write, load = ("write_own", "load_own") if own else ("write", "load")
        return (
            ratio(med(results, engine, write), med(results, peer, "write")),
            ratio(med(results, engine, load), med(results, peer, "load")),
        )

    pairs = [("mem", "popo"), ("mem+s", "popo+s")]
    pairs += [(f"sql-{k}", f"es-sql-{k}") for level in levels for k in (level, f"{level}+s")]
    for engine, peer in pairs:
        stores = f"{chosen[engine].name} / {chosen[peer].name}".replace("engine ", "")
        kept = "both, every event" if chosen[engine].snapshots else "none"
        ratios.add_row(chosen[engine].storage, stores, kept, *of(engine, peer))
    ratios.add_section()
    peer = f"es-sql-{sync}"
    reference = f"{MOTO} / {chosen[peer].storage}"
    ratios.add_row(reference, "not equivalent: reference", "none", *of("ddb", peer))
    ratios.add_row(reference, "the same, moto's time excluded", "none", *of("ddb", peer, own=True))
    out.print(ratios)


def print_notes(out: Console, mode: str, sync: str) -> None:
    out.print(
        f"eventsourcing {version('eventsourcing')}; no aggregate cache on either side. Without "
        "snapshots, its repository replays every event on each get, as the engine folds every "
        "event on each command. With snapshots, both keep one after every event (each command "
        "records one): the engine in the append's own transaction (one commit a command); "
        "eventsourcing (snapshotting_intervals = {Round: 1}) by getting the aggregate again "
        "after the save and putting the snapshot in a second transaction (two commits a "
        f"command; on SQLite at {sync}, two fsyncs). SQLite, both sides: one file in a "
        f"temporary directory, journal {mode.upper()} (eventsourcing's pool sets it for a "
        "file), at two synchronous levels, each checked on eventsourcing's own connection: "
        f"{sync}, eventsourcing as shipped (it sets no level, so SQLite's default, and has no "
        "setting for it), the engine's store given the same; and NORMAL, the engine store's "
        "default (a commit survives the process crashing, not necessarily the machine), "
        "which the bench gives eventsourcing by a PRAGMA on each connection its pool opens. "
        f"At {sync} every commit waits for an fsync: those rows mostly time the disk, and "
        "vary with it from run to run; NORMAL rows time the software. DynamoDB (moto) is for "
        "reference: moto is an emulator with its own cost per "
        "request (parsing, deep copies, its own indexes); 'own' subtracts the time spent "
        "inside moto's request handling (timed at moto's botocore stub, per call), which "
        "leaves the engine's work plus botocore's client-side serialisation and parsing, but "
        "not the network round trips DynamoDB would add (2 per command here: a read and a "
        "TransactWriteItems, a few ms each in-region)."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20, help="rounds (20)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each variant (3)")
    args = parser.parse_args(argv)

    out = console()
    header(out, "Peer comparison: the same round workload on this engine and on eventsourcing")
    mode, sync = sqlite_defaults()
    # SQLite at eventsourcing's level as shipped (its pool sets none), then at the engine
    # store's default, NORMAL, which the bench gives eventsourcing too.
    levels = list(dict.fromkeys((sync, "NORMAL")))
    chosen = variants(mode, sync, levels)
    began = time.perf_counter()
    results = run_interleaved(chosen, plans(args.rounds), args.repeat)
    print_times(out, chosen, results, levels, args)
    print_ratios(out, chosen, results, levels, sync)
    print_notes(out, mode, sync)
    out.print(f"wall time {time.perf_counter() - began:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
