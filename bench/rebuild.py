"""Rebuild throughput: events/s of rebuilding every view from N events, against merely reading them.

    .venv/bin/python bench/rebuild.py [--events 10000] [--repeat 3] [--per-view]

Both are measured side by side in one run, on the in-memory stores, so the figures are the
projection's own cost (decoding, the views, encoding, commits) without DynamoDB's round trips:
a plain read of every stream (decode and upcast each event), then a full rebuild (the same
read, every view, commits in chunks), alternating, best of `--repeat`. The events are
synthetic rounds shaped like the real ones: applications with sealed personal data,
decisions, nominations, pairs, plans, presentations and the scheduled transitions.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from _common import CIPHERTEXT, console, header, metadata, ratio, table

from events import (
    AgencyAdmitted,
    AgencyApplied,
    ApplicationsClosed,
    ApplicationsOpened,
    Event,
    EventMetadata,
    PairFormed,
    ParticipantNominated,
    PlanDeadlinePassed,
    PlanReminderIssued,
    PlanSubmitted,
    PresentationRecorded,
    RoundClosed,
    RoundScheduled,
    RoundStarted,
    SealedPersonalData,
)
from infra.eventstore import InMemoryEventStore, NewEvent
from infra.readmodels import VIEWS, InMemoryReadModelStore, View
from infra.readmodels.rebuild import KnownStreams, Rebuilder

AGENCIES_PER_ROUND = 20
T0 = datetime(2015, 1, 1, tzinfo=UTC)


def round_events(n: int) -> Iterator[Event]:
    """One round's events in order: 98 of them with 20 agencies in 10 pairs."""
    day = timedelta(days=1)
    start = T0 + timedelta(days=400 * n)
    orgs = [f"{200000 + n:06d}-{m:04d}" for m in range(AGENCIES_PER_ROUND)]
    pairs = [(f"pair-{p + 1}", orgs[2 * p : 2 * p + 2]) for p in range(len(orgs) // 2)]
    yield RoundScheduled(
        round_id=f"r{n}",
        number=n + 1,
        title=f"Omgång {n + 1}",
        capacity=AGENCIES_PER_ROUND,
        themes=("digitalisering", "attraktiv arbetsgivare", "delaktighet"),
        application_opens_at=start + 30 * day,
        application_closes_at=start + 60 * day,
        starts_at=start + 90 * day,
        plan_due_at=start + 300 * day,
        closes_at=start + 350 * day,
    )
    yield ApplicationsOpened(due_at=start + 30 * day)
    for m, org in enumerate(orgs):
        yield AgencyApplied(
            org_number=org,
            agency_name=f"Myndigheten för utveckling nr {m}",
            director_general=sealed(n, m, 0),
            contact=sealed(n, m, 1),
            themes=("digitalisering",),
            submitted_at=start + 40 * day,
            source="typeform",
            delivery_id=f"tf-{n}-{m}",
        )
    yield ApplicationsClosed(due_at=start + 60 * day, applications=len(orgs))
    for m, org in enumerate(orgs):
        yield AgencyAdmitted(org_number=org, case_number=f"ESV {n}/{m}")
        yield ParticipantNominated(org_number=org, role="director_general", person=sealed(n, m, 2))
    for pair_id, members in pairs:
        yield PairFormed(pair_id=pair_id, org_numbers=tuple(members), theme="digitalisering")
    yield RoundStarted(due_at=start + 90 * day, admitted=tuple(orgs), unpaired=())
    yield PlanReminderIssued(
        due_at=start + 290 * day,
        plan_due_at=start + 300 * day,
        pairs_without_plan=tuple(p for p, _ in pairs),
    )
    for k, (pair_id, _) in enumerate(pairs):
        yield PlanSubmitted(
            pair_id=pair_id,
            title="Strategisk utvecklingsplan",
            document_url=f"https://programme.example.se/plans/{n}/{pair_id}.pdf",
            document_sha256=f"{k:064x}",
            submitted_at=start + (295 + k) * day,
            late=295 + k > 300,
        )
    yield PlanDeadlinePassed(due_at=start + 300 * day, pairs_without_plan=())
    for pair_id, _ in pairs:
        yield PresentationRecorded(pair_id=pair_id, held_at=start + 340 * day)
    yield RoundClosed(
        due_at=start + 350 * day,
        admitted=len(orgs),
        pairs=len(pairs),
        plans_submitted=len(pairs),
        plans_late=4,
        presentations=len(pairs),
    )


def sealed(n: int, m: int, role: int) -> SealedPersonalData:
    return SealedPersonalData(subject_id=f"subj-{n:010x}{m:011x}{role:011x}", ciphertext=CIPHERTEXT)


def fill(store: InMemoryEventStore, events: int) -> list[str]:
    """Append `events` events, round after round; returns the stream ids."""
    streams: list[str] = []
    written = 0
    n = 0
    while written < events:
        stream_id = f"round-r{n}"
        batch = list(round_events(n))[: events - written]
        for first in range(0, len(batch), 90):
            chunk = batch[first : first + 90]
            new = [NewEvent(event, meta(written + first + k)) for k, event in enumerate(chunk)]
            store.append(stream_id, first, new)
        streams.append(stream_id)
        written += len(batch)
        n += 1
    return streams


def meta(k: int) -> EventMetadata:
    return metadata(f"evt-{k}", T0 + timedelta(minutes=k), f"corr-{k}", "staff:programme-office")


def time_read(store: InMemoryEventStore, streams: list[str]) -> tuple[float, int]:
    began = time.perf_counter()
    count = sum(1 for stream_id in streams for _ in store.read(stream_id))
    return time.perf_counter() - began, count


def time_rebuild(
    store: InMemoryEventStore, streams: list[str], views: list[View]
) -> tuple[float, int]:
    read_models = InMemoryReadModelStore()
    began = time.perf_counter()
    rebuilder = Rebuilder(views, read_models, KnownStreams(store, streams))
    started = rebuilder.start()
    done = rebuilder.replay(started.generations)
    rebuilder.switch(started.generations)
    return time.perf_counter() - began, done.events_done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000, help="events to replay (10,000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each, best kept (3)")
    parser.add_argument("--per-view", action="store_true", help="also rebuild each view alone")
    args = parser.parse_args(argv)

    store = InMemoryEventStore()
    streams = fill(store, args.events)
    views = list(VIEWS.values())
    reads, rebuilds = [], []
    for _ in range(args.repeat):  # side by side: the two alternate, so drift hits both alike
        reads.append(time_read(store, streams))
        rebuilds.append(time_rebuild(store, streams, views))
    read_seconds, read_count = min(reads)
    rebuild_seconds, rebuilt_count = min(rebuilds)
    assert read_count == rebuilt_count == args.events, (read_count, rebuilt_count)

    read_rate = read_count / read_seconds
    rebuild_rate = rebuilt_count / rebuild_seconds
    times = rebuild_seconds / read_seconds
    out = console()
    header(out, "Projection rebuild against merely reading the events (in-memory stores)")
    result = table(
        f"{args.events:,} events in {len(streams)} streams, {len(views)} views, "
        f"best of {args.repeat}",
        ("pass", "events/s", "seconds", "x the read"),
        left=("pass",),
    )
    result.add_row("read only (decode, upcast)", f"{read_rate:,.0f}", f"{read_seconds:.3f}", "1.00")
    result.add_row(
        "rebuild every view", f"{rebuild_rate:,.0f}", f"{rebuild_seconds:.3f}", f"{times:.2f}"
    )
    if args.per_view:
        for view in views:
            seconds = min(time_rebuild(store, streams, [view])[0] for _ in range(args.repeat))
            result.add_row(
                f"  {view.name} alone",
                f"{args.events / seconds:,.0f}",
                f"{seconds:.3f}",
                ratio(seconds, read_seconds),
            )
    out.print(result)
    verdict = "[green]met[/green]" if times <= 2 else "[red]not met[/red]"
    out.print(f"Target, a rebuild at most 2x the read: {verdict} ({times:.2f}x).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
