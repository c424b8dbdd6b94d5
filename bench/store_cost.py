"""Store cost per command as a round's stream grows: DynamoDB requests, request units, time.

    .venv/bin/python bench/store_cost.py [--lengths 10,100,1000,10000] [--commands 5]

For each length L, a round's stream of exactly L events is written to its own event-store
table (created under moto from `template.yaml`'s EventStoreTable as the tests create it, less
its stream, which nothing reads here), encoded and checked by the store's own append path
(`prepare_append`, `to_item`: the very items `DynamoDBEventStore.append` writes, 98 events an
append) but put with BatchWriteItem: moto's TransactWriteItems deep-copies the whole table for
every action in it, so 10,000 events through `append` would take hours of emulator time.
Each length is measured three times, side by side, its reserved items written as each
layout leaves them:

- *before*: the layout before the snapshot item (`snapshots_in_tip=True`, the handler's
  `EVERY_APPEND` policy): a snapshot of the state at the head in the tip, rewritten whole
  with every append; a load is one GetItem of the tip.
- *after*: today's layout and policy: the tip holds the head (and a snapshot only when the
  whole tip fits in 1 KB); a larger snapshot is in its own item (version -1), kept every
  `SnapshotPolicy().interval(size)` events. The snapshot is placed so that the third command
  is the one that keeps the next: the commands show a load with the longest tail (the
  command before it), the write of a snapshot, and the loads right after it.
- *migrated*: today's code on the data the layout before left (its large snapshot in the
  tip): the first command moves it to the snapshot item, the rest run as *after*.

Then `--commands` single-event commands run through the real `CommandHandler` on each:
staff admit one applicant each (`DecideApplication` -> one `AgencyAdmitted`), so the stream
is L, L+1, ... when they run. Every DynamoDB request the commands make is counted with
botocore hooks on the client (`provide-client-params.dynamodb` / `after-call.dynamodb`) and
priced in request units with the model in `bench/_common.py` (AWS's read/write-operations
page; ConditionCheck as a transactional write). The event's own WRU is what its item costs
put in a transaction (2 per KB); the target is at most twice that per command. For *after*,
the mean over a whole snapshot cycle (N commands: N - 1 ordinary ones and the one that keeps
the snapshot) is computed from the two measured kinds. Times per command: the median of all
of it, and the range without the time spent inside moto's emulation ("own"; on AWS that
part is a network round trip instead; the commands after a snapshot fold fewer events).

The history is valid for the fold: RoundScheduled, ApplicationsOpened, A applications
(AgencyApplied, each from a distinct Luhn-valid agency, with sealed personal data as the
intake writes it), ApplicationsClosed, then D selection decisions (AgencyWaitlisted), with
A + D + 3 = L. A real round holds 12-20 agencies and about 100 events; a round does not
legally grow past a few hundred events any other way than by many applicants (capacity caps
admissions at 200, and reschedules stop once the dates have passed), so the 1,000- and
10,000-event streams are many-applicant rounds: a stress figure for how the per-command cost
grows with history, made of the same event types and sizes as a real round's.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from _common import (
    CIPHERTEXT,
    REGION,
    UNITS_MODEL,
    DynamoMeter,
    console,
    emulated_aws,
    event_store_spec,
    event_store_table,
    header,
    median,
    metadata,
    summarise,
    table,
    table_keys,
    timed,
    with_check_digit,
)
from rich.console import Console

from domain.streams import round_stream_id

T0 = datetime(2026, 1, 1, 9, tzinfo=UTC)
DATES = {
    "application_opens_at": T0,
    "application_closes_at": T0 + timedelta(days=31),
    "starts_at": T0 + timedelta(days=59),
    "plan_due_at": T0 + timedelta(days=240),
    "closes_at": T0 + timedelta(days=270),
}


def history(round_id: str, length: int) -> tuple[list[object], list[str]]:
    """A valid round history of exactly `length` events, and its applicants."""
    from events import (
        AgencyApplied,
        AgencyWaitlisted,
        ApplicationsClosed,
        ApplicationsOpened,
        RoundScheduled,
        SealedPersonalData,
    )

    applicants = (length - 2) // 2
    decisions = length - 3 - applicants
    if applicants < 1 or decisions < 0:
        raise SystemExit(f"a stream length of at least 4 is needed, not {length}")
    orgs = [with_check_digit(f"2022{i:05d}") for i in range(applicants)]

    def sealed(i: int, role: int) -> SealedPersonalData:
        return SealedPersonalData(subject_id=f"subj-{i:016x}{role:016x}", ciphertext=CIPHERTEXT)

    events: list[object] = [
        RoundScheduled(
            round_id=round_id,
            number=1,
            title="Utvecklingsprogrammet, omgång 1",
            capacity=200,
            themes=("digitalisering", "attraktiv arbetsgivare"),
            **DATES,
        ),
        ApplicationsOpened(due_at=DATES["application_opens_at"]),
    ]
    events += [
        AgencyApplied(
            org_number=org,
            agency_name=f"Myndigheten för utveckling nr {i}",
            director_general=sealed(i, 0),
            contact=sealed(i, 1),
            themes=("digitalisering",),
            submitted_at=T0 + timedelta(days=1),
            source="typeform",
            delivery_id=f"tf-{i}",
        )
        for i, org in enumerate(orgs)
    ]
    events.append(
        ApplicationsClosed(due_at=DATES["application_closes_at"], applications=applicants)
    )
    events += [AgencyWaitlisted(org_number=org, case_number=None) for org in orgs[:decisions]]
    assert len(events) == length
    return events, orgs


MODES = {"before": "before", "after": "after", "migrated": "migrated"}


def write_history(
    client: object,
    table: str,
    stream_id: str,
    events: list[object],
    snapshot: object = None,
    *,
    own_item: bool = False,
) -> None:
    """The events as the store encodes and checks an append (`prepare_append`, `to_item`),
    written with BatchWriteItem (see the module docstring for why not TransactWriteItems), and
    the stream's reserved items as the store leaves them: the tip with its head, and the
    snapshot, if one is given, in the tip or (`own_item`) in the snapshot item."""
    from infra.eventstore import MAX_EVENTS_PER_APPEND, NewEvent
    from infra.eventstore.dynamodb import SNAPSHOT_VERSION, TIP_VERSION, to_item
    from infra.eventstore.records import prepare_append

    at = T0 + timedelta(days=32)
    for first in range(0, len(events), MAX_EVENTS_PER_APPEND):
        chunk = [
            NewEvent(event, metadata(uuid.uuid4().hex, at, "bench", "staff:bench"))  # type: ignore[arg-type]
            for event in events[first : first + MAX_EVENTS_PER_APPEND]
        ]
        items = [to_item(stored) for stored in prepare_append(stream_id, first, chunk)]
        for start in range(0, len(items), 25):
            puts = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
            answer = client.batch_write_item(RequestItems={table: puts})  # type: ignore[attr-defined]
            if answer.get("UnprocessedItems"):
                raise SystemExit("moto left items unprocessed")

    def key(version: int) -> dict[str, dict[str, str]]:
        return {"stream_id": {"S": stream_id}, "version": {"N": str(version)}}

    tip: dict[str, Any] = key(TIP_VERSION) | {"head": {"N": str(len(events))}}
    if snapshot is not None:
        kept = {
            "snapshot": {"B": snapshot.data},  # type: ignore[attr-defined]
            "snapshot_version": {"N": str(snapshot.version)},  # type: ignore[attr-defined]
            "snapshot_format": {"S": snapshot.format},  # type: ignore[attr-defined]
        }
        if own_item:
            item = key(SNAPSHOT_VERSION) | kept
            client.put_item(TableName=table, Item=item)  # type: ignore[attr-defined]
        else:
            tip |= kept
    client.put_item(TableName=table, Item=tip)  # type: ignore[attr-defined]


def spread(values: list[float]) -> str:
    """One figure, or its range when the commands at a length differed."""
    low, high = min(values), max(values)
    return f"{low:g}" if low == high else f"{low:g}-{high:g}"


def measure_length(
    client: Any,
    meter: DynamoMeter,
    codec: Any,
    length: int,
    commands: int,
    policy: Any = None,
    layouts: tuple[str, ...] = tuple(MODES),
) -> list[dict[str, Any]]:
    """A stream of `length` events, once per layout (see the module docstring): a row each."""
    from domain import decide, evolve, fold
    from infra.command_handler import EVERY_APPEND, CommandHandler, SnapshotPolicy
    from infra.eventstore import DynamoDBEventStore, Snapshot
    from infra.eventstore.dynamodb import TIP_BYTES
    from programme.stack.clock import ManualClock

    round_id = f"stress-{length}"
    stream_id = round_stream_id(round_id)
    events, orgs = history(round_id, length)
    at_head = Snapshot(length, codec.format, codec.encode(fold(events)))  # type: ignore[arg-type]
    policy = policy or SnapshotPolicy()
    interval = policy.interval(len(at_head.data))
    # After: the last snapshot kept so that command `due` (the third) keeps the next one.
    due = min(3, commands)
    kept_at = max(1, min(length, length + due - interval))
    kept = Snapshot(kept_at, codec.format, codec.encode(fold(events[:kept_at])))  # type: ignore[arg-type]
    in_tip = len(kept.data) + len(kept.format) + len(stream_id) + 80 <= TIP_BYTES
    rows = []
    for mode in layouts:
        table_name = f"{event_store_spec()['TableName']}-{length}-{mode}-{uuid.uuid4().hex[:6]}"
        event_store_table(client, table_name)
        meter.keys[table_name] = meter.keys[event_store_spec()["TableName"]]
        with timed() as built:
            if mode == "after":
                write_history(client, table_name, stream_id, events, kept, own_item=not in_tip)
            else:
                write_history(client, table_name, stream_id, events, at_head)
        handler = CommandHandler(
            DynamoDBEventStore(client, table_name, snapshots_in_tip=mode == "before"),
            decide,
            evolve,
            ManualClock(T0 + timedelta(days=35)),
            lambda: uuid.uuid4().hex,
            snapshots=codec,
            snapshot_policy=EVERY_APPEND if mode == "before" else policy,
        )
        counts, own_wru, total_ms, own_ms = run_commands(
            handler, meter, round_id, orgs[::-1][:commands], length
        )
        wru = [c["wru"] for c in counts]
        ordinary = min(wru)
        if mode == "before":
            cycle: float | None = statistics.mean(wru)
        elif mode == "after":
            cycle = ((interval - 1) * ordinary + max(wru)) / interval
        else:
            cycle = None  # its first command moves the snapshot: the rest are as after's
        rows.append(
            {
                "length": length,
                "mode": mode,
                "reads": [c["reads"] for c in counts],
                "writes": [c["writes"] for c in counts],
                "rru": [c["rru"] for c in counts],
                "wru": wru,
                "cycle": cycle,
                "own_wru": max(own_wru),
                "interval": 1 if mode == "before" else interval,
                "total_ms": median(total_ms),
                "own_ms": own_ms,
                "snapshot_kb": len(at_head.data) / 1024,
                "built_s": built.seconds,
            }
        )
    return rows


def run_commands(
    handler: Any, meter: DynamoMeter, round_id: str, orgs: list[str], length: int
) -> tuple[list[dict[str, float]], list[int], list[float], list[float]]:
    """Single-event commands, an admission of each of `orgs` in turn: each one's requests and
    units, its event's own WRU (its item put in a transaction), its milliseconds, and those
    outside moto."""
    from domain import DecideApplication
    from infra.eventstore import NewEvent
    from infra.eventstore.records import encode, item_size

    stream_id = round_stream_id(round_id)
    counts, own_wru, total_ms, own_ms = [], [], [], []
    for k, org in enumerate(orgs):
        command = DecideApplication(round_id, org, "admit", f"ESV 2026/{k}")
        mark = meter.mark()
        with timed() as took:
            result = handler.handle(
                command, stream_id=stream_id, actor="staff:bench", correlation_id="bench"
            )
        if len(result.events) != 1 or result.version != length + k + 1:
            raise SystemExit(f"unexpected result at {length}: {result}")
        counts.append(summarise(meter.since(mark)))
        [recorded] = result.events
        stored = encode(stream_id, recorded.version, NewEvent(recorded.event, recorded.metadata))
        own_wru.append(2 * math.ceil(item_size(stored) / 1024))
        total_ms.append(took.seconds * 1000)
        own_ms.append(took.own * 1000)
    return counts, own_wru, total_ms, own_ms


def print_rows(out: Console, rows: list[dict[str, Any]], commands: int, meter: DynamoMeter) -> None:
    result = table(
        f"One single-event command (DecideApplication -> AgencyAdmitted), {commands} a layout",
        ("events", "layout", "reads", "writes", "RRU/load", "WRU", "WRU/cycle", "event WRU",
         "x event", "N", "ms", "own ms", "snap KB"),
        left=("layout",),
        caption="reads/writes = DynamoDB requests per command and RRU/WRU their on-demand "
        "units, each the range over the commands; WRU/cycle = the mean per command over a "
        "snapshot cycle of N commands (before: every command); event WRU = the new event's "
        "item put in a transaction; x event = WRU/cycle over event WRU (target <= 2); ms = "
        "the median per command; own ms = their range without the time inside moto",
    )  # fmt: skip
    for row in rows:
        cycle = row["cycle"]
        result.add_row(
            f"{row['length']:,}",
            MODES[row["mode"]],
            spread(row["reads"]),
            spread(row["writes"]),
            spread(row["rru"]),
            spread(row["wru"]),
            "-" if cycle is None else f"{cycle:.2f}",
            f"{row['own_wru']:g}",
            "-" if cycle is None else f"{cycle / row['own_wru']:.2f}",
            f"{row['interval']}",
            f"{row['total_ms']:.1f}",
            spread([round(ms) for ms in row["own_ms"]]),
            f"{row['snapshot_kb']:.1f}",
        )
    out.print(result)
    after = [row for row in rows if row["mode"] == "after"]
    before = [row for row in rows if row["mode"] == "before"]
    failed = [f"{row['length']:,}" for row in after if row["cycle"] > 2 * row["own_wru"]]
    ordinary_failed = [
        f"{row['length']:,}" for row in after if min(row["wru"]) > 2 * row["own_wru"]
    ]
    many_reads = [
        f"{row['length']:,}" for row in rows if row["mode"] != "before" and max(row["reads"]) > 2
    ]
    out.print(
        "Target, WRU per command within 2x the event's own at every length: ordinary "
        "commands "
        + (f"[red]not met[/red] at {', '.join(ordinary_failed)}" if ordinary_failed else "met")
        + "; over a whole snapshot cycle "
        + (f"[red]not met[/red] at {', '.join(failed)} events" if failed else "met")
        + ". Load in 1-2 read requests: "
        + (f"[red]not met[/red] at {', '.join(many_reads)}" if many_reads else "met")
        + ". Before: "
        + ", ".join(f"{spread(row['wru'])} WRU at {row['length']:,}" for row in before)
        + "; after (cycle mean): "
        + ", ".join(f"{row['cycle']:.2f} at {row['length']:,}" for row in after)
        + "."
    )
    out.print(
        "Per command, before: one strongly consistent GetItem of the tip (head and snapshot), "
        "and one TransactWriteItems: the tip rewritten whole with the new snapshot, and the "
        "event's Put (2 WRU per KB each). After: one strongly consistent Query of the two "
        "reserved items (tip, version 0; snapshot item, version -1), and, unless the snapshot "
        "is at the head, one Query of the events after it (at most N); one TransactWriteItems: "
        "an Update of the tip's head (under 1 KB) and the event's Put, and once every N "
        "events a Put of the tip and of the snapshot item instead of the Update."
    )
    out.print(UNITS_MODEL)
    if meter.unsized:
        out.print(
            f"{meter.unsized} item(s) read were sized from the read's answer, not their write"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lengths", default="10,100,1000,10000", help="stream lengths")
    parser.add_argument("--commands", type=int, default=5, help="commands per length (5)")
    parser.add_argument(
        "--layouts", default=",".join(MODES), help=f"which of {', '.join(MODES)} (all)"
    )
    parser.add_argument(
        "--events-per-kb", type=int, help="the snapshot policy's, to measure another (8)"
    )
    parser.add_argument("--most-events", type=int, help="the snapshot policy's (500)")
    args = parser.parse_args(argv)
    lengths = [int(x) for x in args.lengths.split(",")]
    layouts = tuple(args.layouts.split(","))
    if not set(layouts) <= set(MODES) or args.commands < 1:
        parser.error(f"--layouts is some of {', '.join(MODES)}; --commands at least 1")

    out = console()
    header(out, "Store cost per command as a round's stream grows (DynamoDB under moto)")
    import boto3

    from infra.snapshots import round_state_snapshots
    from programme.template import load_template

    began = time.perf_counter()
    with emulated_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        meter = DynamoMeter(table_keys(load_template()))
        meter.attach(client.meta.events)
        codec = round_state_snapshots()
        from infra.command_handler import SnapshotPolicy

        chosen = {
            name: value
            for name, value in (
                ("events_per_kb", args.events_per_kb),
                ("most_events", args.most_events),
            )
            if value is not None
        }
        policy = SnapshotPolicy(**chosen)
        rows = [
            row
            for length in lengths
            for row in measure_length(client, meter, codec, length, args.commands, policy, layouts)
        ]
    print_rows(out, rows, args.commands, meter)
    out.print(f"wall time {time.perf_counter() - began:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
