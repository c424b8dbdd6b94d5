"""Handler latency of the write side, in process under moto: median and p95 per scenario.

    .venv/bin/python bench/handler_latency.py [invocations per scenario, default 200]

Each scenario calls the real Lambda handler with API Gateway v2 events. moto answers in
process, so the figures are the handler's own work (Powertools, pydantic, the domain, the
vault's AES and moto's DynamoDB/KMS emulation) without network round trips; on AWS add one
DynamoDB read and one transactional write per command (and a KMS call per sealed person
whose key is not cached — none are cached today).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from _common import (
    console,
    emulated_aws,
    handler_environment,
    handler_tables,
    header,
    import_ms,
    median,
    metadata,
    percentile,
    staff_event,
    table,
    timed,
    typeform_body,
    typeform_headers,
    with_check_digit,
)

ROUND_ID = "2026-1"
STAFF_ARN = "arn:aws:iam::1:user/bench"


def delivery_body(event_id: str, org_number: str, round_id: str = ROUND_ID) -> bytes:
    texts = {"org_number": org_number, "agency_name": f"Myndighet {org_number}"}
    texts |= {"director_general": "Generaldirektör Exempel", "contact_name": "Kontakt Exempel"}
    return typeform_body(
        event_id, round_id, datetime.now(UTC).isoformat(), texts, "kontakt@example.se",
        "digitalisering", form_id="bench", token=event_id, choice_type="multiple_choice",
    )  # fmt: skip


def typeform_event(body: bytes) -> dict[str, Any]:
    from tests.support.apigw import http_event

    return http_event("POST", "/webhooks/typeform", body=body, headers=typeform_headers(body))


def measure(name: str, n: int, call: Callable[[int], dict[str, Any]], expect: int) -> list[str]:
    timings, own = [], []
    for i in range(n):
        with timed() as took:
            response = call(i)
        timings.append(took.seconds * 1000)
        own.append(took.own * 1000)
        if response["statusCode"] != expect:
            raise SystemExit(f"{name}: call {i} answered {response['statusCode']}: {response}")
    return [
        name,
        str(n),
        f"{median(timings):.1f}",
        f"{percentile(timings, 95):.1f}",
        f"{median(own):.1f}",
        f"{percentile(own, 95):.1f}",
    ]


def import_time(module: str, runs: int = 5) -> list[str]:
    """Median time to import an entry point in a fresh interpreter (the cold start's share)."""
    timings = [import_ms(module) for _ in range(runs)]
    return [f"import {module} (fresh process)", str(runs), f"{median(timings):.1f}"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("invocations", nargs="?", type=int, default=200, help="per scenario")
    parser.add_argument(
        "--long-stream", type=int, default=500, help="applications on the one long stream"
    )
    arguments = parser.parse_args(argv)
    n, long_applications = arguments.invocations, arguments.long_stream
    out = console()
    header(out, "Handler latency of the write side (in process, under moto)")
    handler_environment(
        "programme-engine-bench",
        "ProgrammeEngineBench",
        "bench-actor-pseudonym-key",
        POWERTOOLS_METRICS_DISABLED="true",
        POWERTOOLS_LOG_LEVEL="ERROR",
    )
    with emulated_aws(one_snapshot=False):
        from programme.template import load_template

        handler_tables(load_template())
        with contextlib.redirect_stdout(io.StringIO()):  # metrics' EMF lines
            rows = run_scenarios(n, long_applications)
    rows += [import_time(module) for module in ("functions.intake.app", "functions.commands.app")]
    result = table(
        f"Handler latency in process under moto ({n} invocations a scenario)",
        rows[0],
        left=(rows[0][0],),
        caption="own = without the time inside moto's emulation; import rows: bench/cold_start.py "
        "has the full picture",
    )
    for row in rows[1:]:
        result.add_row(*(row + [""] * (len(rows[0]) - len(row))))
    out.print(result)
    return 0


@dataclass
class Scenarios:
    """The handlers called as API Gateway calls them, on rounds of 20 applicants."""

    n: int
    rounds: list[str]  # the last is the long one
    orgs: list[str]
    context: Any
    intake: Callable[..., Any]
    commands: Callable[..., Any]

    def round_of(self, i: int) -> str:
        return self.rounds[i % (len(self.rounds) - 1)]

    def delivery(self, i: int) -> dict[str, Any]:
        return typeform_event(delivery_body(f"tf-{i}", self.orgs[i], self.round_of(i)))

    def decision(self, org: str, choice: str, round_id: str, key: str | None = None) -> Any:
        headers = {"content-type": "application/json"} | ({"idempotency-key": key} if key else {})
        body = {"org_number": org, "decision": choice}
        event = staff_event(f"/rounds/{round_id}/decisions", body, STAFF_ARN, headers)
        return self.commands(event, self.context)

    def decided(self, i: int, choice: str, key: str | None = None) -> Any:
        return self.decision(self.orgs[i], choice, self.round_of(i), key)

    def deliveries(self) -> list[list[str]]:
        n, context = self.n, self.context
        with timed() as first:
            self.intake(
                typeform_event(delivery_body("first", with_check_digit("202199999"))), context
            )

        def deliver(i: int) -> Any:
            return self.intake(self.delivery(i), context)

        unsigned = {**typeform_event(b"{}"), "headers": {"typeform-signature": "sha256=x"}}
        return [
            ["typeform: first call in the process", "1", f"{first.seconds * 1000:.1f}", "", "", ""],
            measure("typeform: application recorded", n, deliver, 202),
            measure("typeform: retried delivery (duplicate)", n, deliver, 202),
            measure(
                "typeform: wrong signature (401)", n, lambda i: self.intake(unsigned, context), 401
            ),
        ]

    def decisions(self) -> list[list[str]]:
        choices = ["admit", "waitlist"]
        calls: dict[str, Callable[[int], Any]] = {
            "staff: POST decisions": lambda i: self.decided(i, choices[i % 2]),
            "staff: POST decisions, new Idempotency-Key": lambda i: self.decided(
                i, "reject", f"key-{i}"
            ),
            "staff: same Idempotency-Key replayed": lambda _: self.decided(0, "reject", "key-0"),
        }
        return [measure(name, self.n, call, 200) for name, call in calls.items()]


def run_scenarios(n: int, long_applications: int = 500) -> list[list[str]]:
    """Deliveries and decisions spread over rounds of 20 applicants (streams of ~20-80
    events, as real rounds are), then decisions on one long stream, to show its cost."""
    from domain import CloseApplications, OpenApplications, ScheduleRound, decide, evolve
    from domain.streams import round_stream_id
    from functions.commands.app import handler as commands
    from functions.common import bootstrap
    from functions.intake.app import handler as intake
    from infra.command_handler import CommandHandler
    from programme.stack.clock import ManualClock
    from tests.support.apigw import LambdaContext

    now = datetime.now(UTC)
    days = {"application_closes_at": 7, "starts_at": 14, "plan_due_at": 60, "closes_at": 90}
    dates = {"application_opens_at": now - timedelta(hours=1)}
    dates |= {name: now + timedelta(days=d) for name, d in days.items()}
    clock = ManualClock(now)
    driver = CommandHandler(
        bootstrap.event_store(), decide, evolve, clock, lambda: uuid.uuid4().hex
    )
    rounds = [f"2026-{k}" for k in range(max(1, n // 20))] + ["long"]

    def run(command: Any) -> None:
        stream = round_stream_id(command.round_id)
        driver.handle(command, stream_id=stream, actor="bench", correlation_id="b")

    for round_id in rounds:
        run(ScheduleRound(round_id, 1, "Bench", 200, ("digitalisering",), **dates))
        run(OpenApplications(round_id))
    orgs = [with_check_digit(f"2021{i:05d}") for i in range(1000, 1000 + n)]
    on = Scenarios(n, rounds, orgs, LambdaContext(), intake, commands)
    rows = [["scenario", "n", "median ms", "p95 ms", "own median", "own p95"], *on.deliveries()]
    clock.advance_to(dates["application_closes_at"])
    for round_id in rounds:
        run(CloseApplications(round_id))
    rows += on.decisions()
    lengths = [bootstrap.event_store().last_version(round_stream_id(r)) for r in rounds[:-1]]
    rows.append(
        ["(round streams at the end: events)", "", f"{min(lengths)}-{max(lengths)}", "", ""]
    )
    rows.append(long_stream(on, now, long_applications))
    return rows


def long_stream(on: Scenarios, now: datetime, applications: int) -> list[str]:
    """One long stream: `applications` appended in batches, then 20 decisions on it."""
    from domain.streams import round_stream_id
    from events import AgencyApplied, SealedPersonalData
    from functions.common import bootstrap
    from infra.eventstore import NewEvent
    from infra.eventstore.records import MAX_EVENTS_PER_APPEND

    store, stream = bootstrap.event_store(), round_stream_id("long")
    sealed = SealedPersonalData(subject_id="subj-" + "0" * 32, ciphertext="c2VhbGVkLXBlcnNvbg==")
    meta = metadata("e", now, "b", "bench")
    orgs = [with_check_digit(f"2022{i:05d}") for i in range(applications)]
    batch = [
        NewEvent(AgencyApplied(
            org_number=o, agency_name="M", director_general=sealed, contact=sealed,
            themes=("digitalisering",), submitted_at=now, source="forms",
        ), meta)
        for o in orgs
    ]  # fmt: skip
    for start in range(0, len(batch), MAX_EVENTS_PER_APPEND):
        appended = batch[start : start + MAX_EVENTS_PER_APPEND]
        store.append(stream, store.last_version(stream), appended)
    name = f"staff: POST decisions, {store.last_version(stream)}-event stream"
    return measure(name, 20, lambda i: on.decision(orgs[i], "admit", "long"), 200)


if __name__ == "__main__":
    sys.exit(main())
