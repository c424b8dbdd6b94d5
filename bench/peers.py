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
- eventsourcing 9.5: an `Application` with a `Round(Aggregate)` whose `@event` methods record
  the same 40 events, carrying the same fields, behind the same rule checks (dates and status
  for each step, one application per agency, valid organisation number by the engine's own
  function, organisers refused, known themes, capacity, pairs of 2-3 distinct admitted
  agencies not yet paired, a plan per active pair, late flag). Without snapshots its
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
from functools import cache
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    REGION,
    MotoClock,
    console,
    header,
    median,
    snapshot_tables_once,
    use_fake_aws,
    with_check_digit,
)
from rich.table import Table

AGENCIES = 12
THEMES = ("intern samverkan och vi-känsla", "digitalisering", "attraktiv arbetsgivare")
CIPHERTEXT = "c2VhbGVkLXBlcnNvbmFsLWRhdGEtb2YtYS1wZXJzb24tYXQtbGVhc3QtYS1mZXctd29yZHMtbG9uZw=="
T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)


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


def plans(rounds: int) -> list[Plan]:
    out = []
    for n in range(rounds):
        start = T0 + timedelta(days=400 * n)
        orgs = tuple(with_check_digit(f"2023{n:02d}{m:03d}") for m in range(AGENCIES))
        out.append(
            Plan(
                f"2030-{n + 1}",
                n + 1,
                start + timedelta(days=30),
                start + timedelta(days=60),
                start + timedelta(days=90),
                start + timedelta(days=300),
                start + timedelta(days=350),
                orgs,
            )
        )
    return out


class Clock:
    """A clock the workload sets (rounds are written one after another, each from its start)."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


# ----------------------------------------------------------------------------- the engine


def engine_workload(
    stores: Callable[[str], Any], rounds: list[Plan], *, snapshots: bool = False
) -> dict[str, float]:
    """Write every round through the command handler, then load each: seconds per phase (all,
    and without moto's share), and the events recorded.

    With `snapshots`, the handler keeps a snapshot of the round with every append, and both
    its commands and the load phase start from it (what `CommandHandler` does with a codec);
    without, every load folds the round's events from the first."""
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
    from infra.command_handler import CommandHandler

    codec = snapshot_codec() if snapshots else None
    clock = Clock()
    in_moto = MotoClock.spent()
    began = time.perf_counter()
    for plan in rounds:
        store = stores(plan.round_id)
        handler = CommandHandler(
            store, decide, evolve, clock, lambda: uuid.uuid4().hex, snapshots=codec
        )
        stream = round_stream_id(plan.round_id)

        def run(command: Any, stream: str = stream, handler: Any = handler) -> None:
            if not handler.handle(
                command, stream_id=stream, actor="bench", correlation_id="b"
            ).events:
                raise SystemExit(f"nothing recorded for {command}")

        clock.now = plan.opens - timedelta(days=20)
        rid = plan.round_id
        run(
            ScheduleRound(
                rid, plan.number, f"Omgång {plan.number}", AGENCIES, THEMES,
                plan.opens, plan.closes, plan.starts, plan.plan_due, plan.closes_at,
            )
        )  # fmt: skip
        clock.now = plan.opens
        run(OpenApplications(rid))
        for m, org in enumerate(plan.orgs):
            clock.now = plan.opens + timedelta(days=1, hours=m)
            sealed = SealedPersonalData(subject_id=f"subj-{m:032x}", ciphertext=CIPHERTEXT)
            run(
                ApplyForRound(
                    rid, org, f"Myndighet {org}", sealed, sealed, (THEMES[m % 3],),
                    clock.now, "typeform", delivery_id=f"tf-{rid}-{m}",
                )
            )  # fmt: skip
        clock.now = plan.closes
        run(CloseApplications(rid))
        for m, org in enumerate(plan.orgs):
            run(DecideApplication(rid, org, "admit", f"ESV {rid}/{m}"))
        for p in range(AGENCIES // 2):
            run(FormPair(rid, plan.orgs[2 * p : 2 * p + 2], THEMES[p % 3]))
        clock.now = plan.starts
        run(StartRound(rid))
        clock.now = plan.plan_due - timedelta(days=3)
        for p in range(AGENCIES // 2):
            run(
                SubmitPlan(
                    rid, f"pair-{p + 1}", "Strategisk utvecklingsplan",
                    f"https://plans.example/{rid}/{p}.pdf", f"{p:064x}",
                )
            )  # fmt: skip
    wrote, write_moto = time.perf_counter() - began, MotoClock.spent() - in_moto
    in_moto = MotoClock.spent()
    began = time.perf_counter()
    events = 0
    for plan in rounds:
        stream = round_stream_id(plan.round_id)
        loaded = stores(plan.round_id).load(stream, codec.format if codec else None)
        state = codec.decode(loaded.snapshot.data) if codec and loaded.snapshot else None
        for recorded in loaded.events:
            state = evolve(state, recorded.event)
        if state is None or state.status != "running" or len(state.pairs) != AGENCIES // 2:
            raise SystemExit(f"round {plan.round_id} loaded wrong: {state}")
        events += loaded.version
    loaded, load_moto = time.perf_counter() - began, MotoClock.spent() - in_moto
    return {
        "write": wrote,
        "load": loaded,
        "events": events,
        "write_own": wrote - write_moto,
        "load_own": loaded - load_moto,
    }


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
    from programme.template import dynamodb_tables, load_template

    spec = dynamodb_tables(load_template())["EventStoreTable"]
    definition = {k: v for k, v in spec.items() if k != "StreamSpecification"}
    client = boto3.client("dynamodb", region_name=REGION)
    run = uuid.uuid4().hex[:8]
    stores = {}
    for plan in rounds:
        name = f"events-{run}-{plan.round_id}"
        client.create_table(**{**definition, "TableName": name})  # type: ignore[arg-type]
        stores[plan.round_id] = DynamoDBEventStore(client, name)
    return engine_workload(lambda round_id: stores[round_id], rounds, snapshots=snapshots)


# ------------------------------------------------------------------------ eventsourcing


@cache
def eventsourcing_classes() -> tuple[type, type]:
    from eventsourcing.application import Application
    from eventsourcing.domain import Aggregate, event

    from domain.org_number import normalise_org_number
    from domain.rules import ORGANISERS

    class RuleError(Exception):
        pass

    class Round(Aggregate):
        @event("RoundScheduled")
        def __init__(
            self,
            round_id: str,
            number: int,
            title: str,
            capacity: int,
            themes: list[str],
            application_opens_at: datetime,
            application_closes_at: datetime,
            starts_at: datetime,
            plan_due_at: datetime,
            closes_at: datetime,
        ) -> None:
            self.round_id, self.number, self.title = round_id, number, title
            self.capacity, self.themes = capacity, list(themes)
            self.opens, self.closes = application_opens_at, application_closes_at
            self.starts, self.plan_due, self.closes_at = starts_at, plan_due_at, closes_at
            self.status = "scheduled"
            self.applications: dict[str, str] = {}
            self.deliveries: list[str] = []
            self.pairs: dict[str, dict[str, Any]] = {}
            self.next_pair = 1

        # rules, then the event

        def open_applications(self, now: datetime) -> None:
            if self.status != "scheduled" or now < self.opens:
                return
            self._opened(due_at=self.opens)

        def apply(self, org_number: str, now: datetime, **fields: Any) -> None:
            if fields.get("delivery_id") in self.deliveries:
                return
            if self.status != "open" or now >= self.closes:
                raise RuleError("applications are closed")
            org = normalise_org_number(org_number)
            if org in ORGANISERS:
                raise RuleError("the organiser cannot apply")
            if self.applications.get(org, "withdrawn") != "withdrawn":
                raise RuleError("already applied")
            if not fields["themes"] or any(t not in self.themes for t in fields["themes"]):
                raise RuleError("unknown theme")
            self._applied(org_number=org, **fields)

        def close_applications(self, now: datetime) -> None:
            if self.status != "open" or now < self.closes:
                return
            live = sum(
                s in ("applied", "admitted", "waitlisted") for s in self.applications.values()
            )
            self._closed(due_at=self.closes, applications=live)

        def admit(self, org_number: str, case_number: str) -> None:
            if self.status not in ("selection", "running"):
                raise RuleError("selection has not started")
            org = normalise_org_number(org_number)
            status = self.applications.get(org)
            if status is None:
                raise RuleError("has not applied")
            if status == "withdrawn":
                raise RuleError("withdrew")
            if status == "admitted":
                return
            if self._admitted_count() >= self.capacity:
                raise RuleError("capacity reached")
            self._admitted(org_number=org, case_number=case_number)

        def form_pair(self, org_numbers: list[str], theme: str) -> None:
            if self.status not in ("selection", "running"):
                raise RuleError("selection has not started")
            orgs = [normalise_org_number(o) for o in org_numbers]
            if len(orgs) not in (2, 3) or len(set(orgs)) != len(orgs):
                raise RuleError("a pair is 2 (or 3) distinct agencies")
            for org in orgs:
                if self.applications.get(org) != "admitted":
                    raise RuleError("not admitted")
                if any(org in p["orgs"] and not p["dissolved"] for p in self.pairs.values()):
                    raise RuleError("already paired")
            if len(orgs) == 3 and self._admitted_count() % 2 == 0:
                raise RuleError("a trio needs an odd count")
            if theme not in self.themes:
                raise RuleError("unknown theme")
            self._pair_formed(pair_id=f"pair-{self.next_pair}", org_numbers=orgs, theme=theme)

        def start(self, now: datetime) -> None:
            if self.status != "selection" or now < self.starts:
                return
            admitted = sorted(o for o, s in self.applications.items() if s == "admitted")
            paired = {o for p in self.pairs.values() if not p["dissolved"] for o in p["orgs"]}
            unpaired = [o for o in admitted if o not in paired]
            self._started(due_at=self.starts, admitted=admitted, unpaired=unpaired)

        def submit_plan(self, pair_id: str, now: datetime, **fields: Any) -> None:
            if self.status != "running":
                raise RuleError("not running")
            pair = self.pairs.get(pair_id)
            if pair is None or pair["dissolved"]:
                raise RuleError("no such active pair")
            if pair["plan"] is not None:
                raise RuleError("a revision: not in this workload")
            late = now > self.plan_due
            self._plan_submitted(pair_id=pair_id, submitted_at=now, late=late, **fields)

        def _admitted_count(self) -> int:
            return sum(s == "admitted" for s in self.applications.values())

        # the events: state changes only

        @event("ApplicationsOpened")
        def _opened(self, due_at: datetime) -> None:
            self.status = "open"

        @event("AgencyApplied")
        def _applied(
            self,
            org_number: str,
            agency_name: str,
            director_general: dict[str, str],
            contact: dict[str, str],
            themes: list[str],
            submitted_at: datetime,
            source: str,
            delivery_id: str,
        ) -> None:
            self.applications[org_number] = "applied"
            self.deliveries.append(delivery_id)

        @event("ApplicationsClosed")
        def _closed(self, due_at: datetime, applications: int) -> None:
            self.status = "selection"

        @event("AgencyAdmitted")
        def _admitted(self, org_number: str, case_number: str) -> None:
            self.applications[org_number] = "admitted"

        @event("PairFormed")
        def _pair_formed(self, pair_id: str, org_numbers: list[str], theme: str) -> None:
            self.pairs[pair_id] = {
                "orgs": org_numbers,
                "theme": theme,
                "dissolved": False,
                "plan": None,
            }
            self.next_pair += 1

        @event("RoundStarted")
        def _started(self, due_at: datetime, admitted: list[str], unpaired: list[str]) -> None:
            self.status = "running"

        @event("PlanSubmitted")
        def _plan_submitted(
            self,
            pair_id: str,
            title: str,
            document_url: str,
            document_sha256: str,
            submitted_at: datetime,
            late: bool,
        ) -> None:
            self.pairs[pair_id]["plan"] = {"sha256": document_sha256, "late": late}

    class Rounds(Application[uuid.UUID]):
        def __init__(self, env: dict[str, str]) -> None:
            super().__init__(env=env)
            self.ids: dict[str, uuid.UUID] = {}

        def change(self, round_id: str, work: Callable[[Round], None]) -> None:
            aggregate: Round = self.repository.get(self.ids[round_id])
            before = aggregate.version
            work(aggregate)
            if aggregate.version == before:
                raise SystemExit(f"nothing recorded on {round_id}")
            self.save(aggregate)

        def schedule(self, plan: Plan) -> None:
            aggregate = Round(
                plan.round_id, plan.number, f"Omgång {plan.number}", AGENCIES, list(THEMES),
                plan.opens, plan.closes, plan.starts, plan.plan_due, plan.closes_at,
            )  # fmt: skip
            self.ids[plan.round_id] = aggregate.id
            self.save(aggregate)

    class SnapshottingRounds(Rounds):
        """Snapshots the round after every event (each of these commands records one), as
        the engine's handler does with every append; the library takes it after the save,
        by getting the aggregate at that version, in a transaction of its own."""

        snapshotting_intervals = {Round: 1}  # noqa: RUF012 (the library's class attribute)

    return Rounds, SnapshottingRounds


def eventsourcing_workload(
    env: dict[str, str],
    rounds: list[Plan],
    *,
    snapshots: bool = False,
    check: Callable[[Any], None] | None = None,
) -> dict[str, float]:
    plain, snapshotting = eventsourcing_classes()
    app = (snapshotting if snapshots else plain)(env)
    began = time.perf_counter()
    for plan in rounds:
        rid = plan.round_id
        app.schedule(plan)
        app.change(rid, lambda r, plan=plan: r.open_applications(plan.opens))
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
            app.change(rid, lambda r, org=org, now=now, fields=fields: r.apply(org, now, **fields))
        app.change(rid, lambda r, plan=plan: r.close_applications(plan.closes))
        for m, org in enumerate(plan.orgs):
            app.change(rid, lambda r, org=org, m=m, rid=rid: r.admit(org, f"ESV {rid}/{m}"))
        for p in range(AGENCIES // 2):
            members = list(plan.orgs[2 * p : 2 * p + 2])
            app.change(rid, lambda r, members=members, p=p: r.form_pair(members, THEMES[p % 3]))
        app.change(rid, lambda r, plan=plan: r.start(plan.starts))
        for p in range(AGENCIES // 2):
            fields = {
                "title": "Strategisk utvecklingsplan",
                "document_url": f"https://plans.example/{rid}/{p}.pdf",
                "document_sha256": f"{p:064x}",
            }
            now = plan.plan_due - timedelta(days=3)
            app.change(
                rid,
                lambda r, p=p, now=now, fields=fields: r.submit_plan(
                    f"pair-{p + 1}", now, **fields
                ),
            )
    wrote = time.perf_counter() - began
    began = time.perf_counter()
    for plan in rounds:
        aggregate = app.repository.get(app.ids[plan.round_id])
        if aggregate.status != "running" or len(aggregate.pairs) != AGENCIES // 2:
            raise SystemExit(f"round {plan.round_id} loaded wrong")
    loaded = time.perf_counter() - began
    events = app.recorder.max_notification_id() or 0
    if snapshots and app.snapshots is None:
        raise SystemExit("eventsourcing: snapshotting is not enabled")
    if check is not None:
        check(app)
    app.close()
    return {"write": wrote, "load": loaded, "events": events}


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20, help="rounds (20)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each variant (3)")
    args = parser.parse_args(argv)

    out = console()
    header(out, "Peer comparison: the same round workload on this engine and on eventsourcing")
    use_fake_aws()
    import warnings
    from functools import partial
    from importlib.metadata import version

    from moto import mock_aws

    warnings.simplefilter("ignore")
    rounds = plans(args.rounds)
    mode, sync = sqlite_defaults()
    # SQLite at eventsourcing's level as shipped (its pool sets none), then at the engine
    # store's default, NORMAL, which the bench gives eventsourcing too.
    levels = list(dict.fromkeys((sync, "NORMAL")))
    moto = "DynamoDB (moto)"
    mem, es_mem = "engine InMemoryEventStore", "eventsourcing popo"
    sql, es_sql = "engine SQLiteEventStore", "eventsourcing SQLite"
    ddb = "engine DynamoDBEventStore"
    variants = {
        "mem": Variant(engine_in_memory, mem, "memory", False),
        "popo": Variant(eventsourcing_popo, es_mem, "memory", False),
        "mem+s": Variant(partial(engine_in_memory, snapshots=True), mem, "memory", True),
        "popo+s": Variant(partial(eventsourcing_popo, snapshots=True), es_mem, "memory", True),
    }
    for level in levels:
        storage = f"SQLite {mode.upper()} {level}"
        for snapshots in (False, True):
            suffix = f"{level}+s" if snapshots else level
            variants[f"sql-{suffix}"] = Variant(
                partial(engine_sqlite, snapshots=snapshots, synchronous=level),
                sql,
                storage,
                snapshots,
            )
            variants[f"es-sql-{suffix}"] = Variant(
                partial(
                    eventsourcing_sqlite,
                    snapshots=snapshots,
                    synchronous=None if level == sync else level,
                ),
                es_sql,
                storage,
                snapshots,
            )
    variants["ddb"] = Variant(engine_dynamodb, ddb, moto, False)
    variants["ddb+s"] = Variant(partial(engine_dynamodb, snapshots=True), ddb, moto, True)
    results: dict[str, list[dict[str, float]]] = {key: [] for key in variants}
    began = time.perf_counter()
    with mock_aws():
        MotoClock.install()
        snapshot_tables_once()
        for _ in range(args.repeat):
            for key, variant in variants.items():
                results[key].append(variant.run(rounds))

    def med(key: str, value: str) -> float:
        return median(run[value] for run in results[key])

    def snapshots_of(variant: Variant) -> str:
        if not variant.snapshots:
            return "none"
        return "every append" if variant.name.startswith("engine") else "every event"

    commands = args.rounds * 40
    table = Table(
        title=f"{args.rounds} rounds x 40 commands (12 agencies, 6 pairs), then every round "
        f"loaded; median of {args.repeat} runs",
    )
    for column in (
        "storage",
        "store",
        "snapshots",
        "write s",
        "ms/cmd",
        "load ms",
        "events",
        "own write s",
        "own load ms",
    ):
        left = column in ("storage", "store", "snapshots")
        table.add_column(column, justify="left" if left else "right")
    for key, variant in variants.items():
        own = key.startswith("ddb")
        if key in {"ddb", *(f"sql-{level}" for level in levels)}:
            table.add_section()
        table.add_row(
            variant.storage,
            variant.name,
            snapshots_of(variant),
            f"{med(key, 'write'):.3f}",
            f"{med(key, 'write') / commands * 1000:.2f}",
            f"{med(key, 'load') * 1000:.1f}",
            f"{med(key, 'events'):.0f}",
            f"{med(key, 'write_own'):.3f}" if own else "",
            f"{med(key, 'load_own') * 1000:.1f}" if own else "",
        )
    out.print(table)

    ratios = Table(title="Ratios: engine time / eventsourcing time (< 1: the engine is faster)")
    for column in ("storage", "engine / eventsourcing", "snapshots", "write", "load all"):
        ratios.add_column(column, justify="right" if column in ("write", "load all") else "left")

    def ratio(engine: str, peer: str, *, own: bool = False) -> tuple[str, str]:
        write, load = ("write_own", "load_own") if own else ("write", "load")
        return (
            f"{med(engine, write) / med(peer, 'write'):.2f}",
            f"{med(engine, load) / med(peer, 'load'):.2f}",
        )

    pairs = [("mem", "popo"), ("mem+s", "popo+s")]
    pairs += [(f"sql-{k}", f"es-sql-{k}") for level in levels for k in (level, f"{level}+s")]
    for engine, peer in pairs:
        stores = f"{variants[engine].name} / {variants[peer].name}".replace("engine ", "")
        kept = "both, every event" if variants[engine].snapshots else "none"
        ratios.add_row(variants[engine].storage, stores, kept, *ratio(engine, peer))
    ratios.add_section()
    reference = f"{moto} / {variants[f'es-sql-{sync}'].storage}"
    peer = f"es-sql-{sync}"
    ratios.add_row(reference, "not equivalent: reference", "none", *ratio("ddb", peer))
    ratios.add_row(
        reference, "the same, moto's time excluded", "none", *ratio("ddb", peer, own=True)
    )
    out.print(ratios)
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
    out.print(f"wall time {time.perf_counter() - began:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
