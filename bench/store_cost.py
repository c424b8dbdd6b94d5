"""Store cost per command as a round's stream grows: DynamoDB requests, request units, time.

    .venv/bin/python bench/store_cost.py [--lengths 10,100,1000,10000] [--commands 5]

For each length L, a round's stream of exactly L events is written to its own event-store
table (created under moto from `template.yaml`'s EventStoreTable as the tests create it, less
its stream, which nothing reads here), encoded and checked by the store's own append path
(`prepare_append`, `to_item`: the very items `DynamoDBEventStore.append` writes, 99 events an
append) but put with BatchWriteItem: moto's TransactWriteItems deep-copies the whole table for
every action in it, so 10,000 events through `append` would take hours of emulator time.
The stream's tip (version 0) is written as the store leaves it, twice over: once with its head
alone ("before": the handler folds every event, as it did before snapshots), once with a
snapshot of the state at the head ("after": the handler keeps snapshots). Then `--commands`
single-event commands run through the real `CommandHandler` on each: staff admit one
applicant each (`DecideApplication` -> one `AgencyAdmitted`), so the stream is L, L+1, ...
when they run. Every DynamoDB request the commands make is counted with botocore hooks on
the client (`provide-client-params.dynamodb` / `after-call.dynamodb`) and priced in request
units with the model in `bench/_common.py` (AWS's read/write-operations page; ConditionCheck
as a transactional write). Times are the median per command: all of it, and without the time
spent inside moto's emulation ("own"; on AWS that part is a network round trip instead).

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


def write_history(
    client: object, table: str, stream_id: str, events: list[object], snapshot: object = None
) -> None:
    """The events as the store encodes and checks an append (`prepare_append`, `to_item`),
    written with BatchWriteItem (see the module docstring for why not TransactWriteItems), and
    the stream's tip as the store leaves it: its head, and the snapshot if one is given."""
    from infra.eventstore import MAX_EVENTS_PER_APPEND, NewEvent
    from infra.eventstore.dynamodb import to_item
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
    tip = {"stream_id": {"S": stream_id}, "version": {"N": "0"}, "head": {"N": str(len(events))}}
    if snapshot is not None:
        tip |= {
            "snapshot": {"B": snapshot.data},  # type: ignore[attr-defined]
            "snapshot_version": {"N": str(snapshot.version)},  # type: ignore[attr-defined]
            "snapshot_format": {"S": snapshot.format},  # type: ignore[attr-defined]
        }
    client.put_item(TableName=table, Item=tip)  # type: ignore[attr-defined]


def spread(values: list[float]) -> str:
    """One figure, or its range when the commands at a length differed (a 4 KB boundary)."""
    low, high = min(values), max(values)
    return f"{low:g}" if low == high else f"{low:g}-{high:g}"


def measure_length(
    client: Any, meter: DynamoMeter, codec: Any, length: int, commands: int
) -> list[list[str]]:
    """A stream of `length` events, twice (before: folded; after: from its tip): a row each."""
    from domain import decide, evolve, fold
    from infra.command_handler import CommandHandler
    from infra.eventstore import DynamoDBEventStore, Snapshot
    from programme.stack.clock import ManualClock

    round_id = f"stress-{length}"
    events, orgs = history(round_id, length)
    state = fold(events)  # type: ignore[arg-type]
    snapshot = Snapshot(length, codec.format, codec.encode(state))
    rows = []
    for mode in ("fold", "snapshot"):
        table_name = f"{event_store_spec()['TableName']}-{length}-{mode}"
        event_store_table(client, table_name)
        meter.keys[table_name] = meter.keys[event_store_spec()["TableName"]]
        kept = snapshot if mode == "snapshot" else None
        with timed() as built:
            write_history(client, table_name, round_stream_id(round_id), events, kept)
        handler = CommandHandler(
            DynamoDBEventStore(client, table_name),
            decide,
            evolve,
            ManualClock(T0 + timedelta(days=35)),
            lambda: uuid.uuid4().hex,
            snapshots=codec if kept else None,
        )
        counts, total_ms, own_ms = run_commands(
            handler, meter, round_id, orgs[::-1][:commands], length
        )
        met = all(c["reads"] == 1 and c["writes"] == 1 for c in counts)
        rows.append(
            [
                f"{length:,}",
                "before: fold" if mode == "fold" else "after: tip",
                *(spread([c[name] for c in counts]) for name in ("reads", "writes", "rru", "wru")),
                f"{median(total_ms):.1f}",
                f"{median(own_ms):.1f}",
                f"{len(snapshot.data) / 1024:.1f}" if kept else "-",
                "[green]PASS[/green]" if met else "[red]FAIL[/red]",
                f"{built.seconds:.1f}",
            ]
        )
    return rows


def run_commands(
    handler: Any, meter: DynamoMeter, round_id: str, orgs: list[str], length: int
) -> tuple[list[dict[str, float]], list[float], list[float]]:
    """Single-event commands, an admission of each of `orgs` in turn: each one's requests and
    units, its milliseconds, and those outside moto."""
    from domain import DecideApplication

    stream_id = round_stream_id(round_id)
    counts, total_ms, own_ms = [], [], []
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
        total_ms.append(took.seconds * 1000)
        own_ms.append(took.own * 1000)
    return counts, total_ms, own_ms


def print_rows(out: Console, rows: list[list[str]], commands: int, meter: DynamoMeter) -> None:
    result = table(
        f"One single-event command (DecideApplication -> AgencyAdmitted), median of {commands}",
        ("stream length", "load", "read req", "write req", "RRU", "WRU", "ms/command", "own ms",
         "snapshot KB", "1R + 1W", "build s"),
        left=("load", "1R + 1W"),
        caption="R/W = DynamoDB read/write requests per command; RRU/WRU = on-demand request "
        "units (RCU/WCU); own = without time inside moto",
    )  # fmt: skip
    for row in rows:
        result.add_row(*row)
    out.print(result)
    after = [row for row in rows if row[1].startswith("after")]
    before = [row for row in rows if row[1].startswith("before")]
    failed = [row[0] for row in after if "FAIL" in row[9]]
    sizes = list(meter.sizes.values())
    average = sum(sizes) / len(sizes) if sizes else 0
    out.print(
        "Target, 1 read + 1 write request per command at every length: "
        + (f"[red]not met[/red] (fails at {', '.join(failed)} events)" if failed else "met")
        + f". Before (folding every event): {before[0][4]} RRU at {before[0][0]} events, "
        f"{before[-1][4]} at {before[-1][0]}, the read paged past 1 MB (events average "
        f"{average:.0f} B, about {1_048_576 / max(average, 1):,.0f} to a page). After: "
        f"{after[0][4]} RRU at {after[0][0]}, {after[-1][4]} at {after[-1][0]}: what grows is "
        "the state (the applicants), not the history."
    )
    out.print(
        "Per command, before: one strongly consistent Query of the whole stream, in pages of "
        "at most 1 MB; after: one strongly consistent GetItem of the stream's tip (its head "
        "and the snapshot). The write either way is one TransactWriteItems: an Update of the "
        "tip (conditional on the head the command decided on; with the new snapshot after) "
        "and a Put of the new event, 2 WRU per KB each: the snapshot is rewritten with every "
        "command, so WRU grow with the state's size."
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
    args = parser.parse_args(argv)
    lengths = [int(x) for x in args.lengths.split(",")]

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
        rows = [
            row
            for length in lengths
            for row in measure_length(client, meter, codec, length, args.commands)
        ]
    print_rows(out, rows, args.commands, meter)
    out.print(f"wall time {time.perf_counter() - began:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
