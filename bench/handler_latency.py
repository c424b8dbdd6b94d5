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
import base64
import contextlib
import hashlib
import hmac
import io
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import console, header
from rich.table import Table

REGION = "eu-north-1"
TYPEFORM_SECRET = "bench-typeform-secret"
ROUND_ID = "2026-1"


def with_check_digit(first_nine: str) -> str:
    from domain.org_number import luhn_check_digit

    return f"{first_nine[:6]}-{first_nine[6:]}{luhn_check_digit(first_nine)}"


def typeform_body(event_id: str, org_number: str) -> bytes:
    def text(ref: str, value: str) -> dict[str, Any]:
        return {
            "type": "text",
            "text": value,
            "field": {"id": ref, "type": "short_text", "ref": ref},
        }

    answers = [
        text("org_number", org_number),
        text("agency_name", f"Myndighet {org_number}"),
        text("director_general", "Generaldirektör Exempel"),
        text("contact_name", "Kontakt Exempel"),
        {"type": "email", "email": "kontakt@example.se", "field": {"ref": "contact_email"}},
        {
            "type": "choices",
            "choices": {"labels": ["digitalisering"]},
            "field": {"ref": "themes", "type": "multiple_choice"},
        },
    ]
    payload = {
        "event_id": event_id,
        "event_type": "form_response",
        "form_response": {
            "form_id": "bench",
            "token": event_id,
            "submitted_at": datetime.now(UTC).isoformat(),
            "hidden": {"round_id": ROUND_ID},
            "definition": {"fields": []},
            "answers": answers,
        },
    }
    return json.dumps(payload).encode()


def typeform_event(body: bytes) -> dict[str, Any]:
    from tests.support.apigw import http_event

    digest = hmac.new(TYPEFORM_SECRET.encode(), body, hashlib.sha256).digest()
    signature = "sha256=" + base64.b64encode(digest).decode()
    headers = {"content-type": "application/json", "typeform-signature": signature}
    return http_event("POST", "/webhooks/typeform", body=body, headers=headers)


def staff_event(method: str, path: str, body: dict[str, Any], key: str | None) -> dict[str, Any]:
    from tests.support.apigw import http_event

    headers = {"content-type": "application/json"} | ({"idempotency-key": key} if key else {})
    event = http_event(method, path, body=body, headers=headers)
    event["requestContext"]["authorizer"] = {"iam": {"userArn": "arn:aws:iam::1:user/bench"}}
    return event


class MotoClock:
    """Time spent inside moto's emulation of AWS, to tell it apart from the handler's own."""

    spent_ms = 0.0

    @classmethod
    def install(cls) -> None:
        from moto.core.botocore_stubber import BotocoreStubber

        emulate = BotocoreStubber.__call__

        def timed(self: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return emulate(self, event_name, request, **kwargs)
            finally:
                cls.spent_ms += (time.perf_counter() - started) * 1000

        BotocoreStubber.__call__ = timed  # type: ignore[method-assign]


def measure(name: str, n: int, call: Callable[[int], dict[str, Any]], expect: int) -> list[str]:
    timings, own = [], []
    for i in range(n):
        in_moto = MotoClock.spent_ms
        started = time.perf_counter()
        response = call(i)
        elapsed = (time.perf_counter() - started) * 1000
        timings.append(elapsed)
        own.append(elapsed - (MotoClock.spent_ms - in_moto))
        if response["statusCode"] != expect:
            raise SystemExit(f"{name}: call {i} answered {response['statusCode']}: {response}")
    ordered, own = sorted(timings), sorted(own)
    p95 = max(0, round(0.95 * n) - 1)
    return [
        name,
        str(n),
        f"{statistics.median(ordered):.1f}",
        f"{ordered[p95]:.1f}",
        f"{statistics.median(own):.1f}",
        f"{own[p95]:.1f}",
    ]


def import_time(module: str, runs: int = 5) -> list[str]:
    """Median time to import an entry point in a fresh interpreter (the cold start's share)."""
    import subprocess

    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    root = Path(__file__).resolve().parent.parent
    timings = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
            ).stdout
        )
        * 1000
        for _ in range(runs)
    ]
    return [f"import {module} (fresh process)", str(runs), f"{statistics.median(timings):.1f}"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("invocations", nargs="?", type=int, default=200, help="per scenario")
    n = parser.parse_args(argv).invocations
    out = console()
    header(out, "Handler latency of the write side (in process, under moto)")
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION=REGION,
        AWS_REGION=REGION,
        AWS_ACCOUNT_ID_ENDPOINT_MODE="disabled",
        POWERTOOLS_SERVICE_NAME="programme-engine-bench",
        POWERTOOLS_METRICS_NAMESPACE="ProgrammeEngineBench",
        POWERTOOLS_METRICS_DISABLED="true",
        POWERTOOLS_LOG_LEVEL="ERROR",
        POWERTOOLS_TRACE_DISABLED="1",
        TYPEFORM_SECRET=TYPEFORM_SECRET,
        ACTOR_PSEUDONYM_KEY="bench-actor-pseudonym-key",
    )
    import warnings

    import boto3
    from moto import mock_aws

    warnings.simplefilter("ignore")
    with mock_aws():
        MotoClock.install()
        from programme.template import create_tables, load_template

        tables = create_tables(boto3.client("dynamodb", region_name=REGION), load_template())
        os.environ.update(
            EVENT_STORE_TABLE=tables["EventStoreTable"],
            READ_MODEL_TABLE=tables["ReadModelTable"],
            IDEMPOTENCY_TABLE=tables["IdempotencyTable"],
            SUBJECT_KEYS_TABLE=tables["SubjectKeysTable"],
            PERSONAL_DATA_KEY_ID=boto3.client("kms", region_name=REGION).create_key()[
                "KeyMetadata"
            ]["KeyId"],
        )
        with contextlib.redirect_stdout(io.StringIO()):  # metrics' EMF lines
            rows = run_scenarios(n)
    rows += [import_time(module) for module in ("functions.intake.app", "functions.commands.app")]
    result = Table(
        title=f"Handler latency in process under moto ({n} invocations a scenario)",
        caption="own = without the time inside moto's emulation; import rows: bench/cold_start.py "
        "has the full picture",
    )
    for k, name in enumerate(rows[0]):
        result.add_column(name, justify="left" if k == 0 else "right")
    for row in rows[1:]:
        result.add_row(*(row + [""] * (len(rows[0]) - len(row))))
    out.print(result)
    return 0


def run_scenarios(n: int) -> list[list[str]]:
    """Deliveries and decisions spread over rounds of 20 applicants (streams of ~20-80
    events, as real rounds are), then decisions on one long stream, to show its cost."""
    from domain import CloseApplications, OpenApplications, ScheduleRound, decide, evolve
    from domain.streams import round_stream_id
    from events import AgencyApplied, EventMetadata, SealedPersonalData
    from functions.commands.app import handler as commands
    from functions.common import bootstrap
    from functions.intake.app import handler as intake
    from infra.command_handler import CommandHandler
    from infra.eventstore import NewEvent
    from programme.stack.clock import ManualClock
    from tests.support.apigw import LambdaContext

    context = LambdaContext()
    now = datetime.now(UTC)
    dates = {
        "application_opens_at": now - timedelta(hours=1),
        "application_closes_at": now + timedelta(days=7),
        "starts_at": now + timedelta(days=14),
        "plan_due_at": now + timedelta(days=60),
        "closes_at": now + timedelta(days=90),
    }
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

    def round_of(i: int) -> str:
        return rounds[i % (len(rounds) - 1)]

    def delivery(i: int) -> dict[str, Any]:
        body = typeform_body(f"tf-{i}", orgs[i]).replace(b'"2026-1"', f'"{round_of(i)}"'.encode())
        return typeform_event(body)

    def decision(i: int, choice: str, round_id: str | None = None, key: str | None = None) -> Any:
        path = f"/rounds/{round_id or round_of(i)}/decisions"
        body = {"org_number": orgs[i], "decision": choice}
        return commands(staff_event("POST", path, body, key), context)

    first = time.perf_counter()
    intake(typeform_event(typeform_body("first", with_check_digit("202199999"))), context)
    first_ms = (time.perf_counter() - first) * 1000
    rows = [["scenario", "n", "median ms", "p95 ms", "own median", "own p95"]]
    rows.append(["typeform: first call in the process", "1", f"{first_ms:.1f}", "", "", ""])
    rows.append(
        measure("typeform: application recorded", n, lambda i: intake(delivery(i), context), 202)
    )
    rows.append(
        measure(
            "typeform: retried delivery (duplicate)", n, lambda i: intake(delivery(i), context), 202
        )
    )
    unsigned = {**typeform_event(b"{}"), "headers": {"typeform-signature": "sha256=x"}}
    rows.append(
        measure("typeform: wrong signature (401)", n, lambda i: intake(unsigned, context), 401)
    )
    clock.advance_to(dates["application_closes_at"])
    for round_id in rounds:
        run(CloseApplications(round_id))
    choices = ["admit", "waitlist"]
    rows.append(measure("staff: POST decisions", n, lambda i: decision(i, choices[i % 2]), 200))
    rows.append(
        measure(
            "staff: POST decisions, new Idempotency-Key",
            n,
            lambda i: decision(i, "reject", key=f"key-{i}"),
            200,
        )
    )
    rows.append(
        measure(
            "staff: same Idempotency-Key replayed",
            n,
            lambda i: decision(0, "reject", key="key-0"),
            200,
        )
    )
    lengths = [bootstrap.event_store().last_version(round_stream_id(r)) for r in rounds[:-1]]
    rows.append(
        ["(round streams at the end: events)", "", f"{min(lengths)}-{max(lengths)}", "", ""]
    )

    # One long stream: 500 applications appended in batches, then decisions on it.
    store, long_stream = bootstrap.event_store(), round_stream_id("long")
    sealed = SealedPersonalData(subject_id="subj-" + "0" * 32, ciphertext="c2VhbGVkLXBlcnNvbg==")
    meta = EventMetadata(
        event_id="e",
        occurred_at=now,
        recorded_at=now,
        correlation_id="b",
        causation_id="b",
        actor="bench",
    )
    long_orgs = [with_check_digit(f"2022{i:05d}") for i in range(500)]
    batch = [
        NewEvent(
            AgencyApplied(
                org_number=o,
                agency_name="M",
                director_general=sealed,
                contact=sealed,
                themes=("digitalisering",),
                submitted_at=now,
                source="forms",
            ),
            meta,
        )
        for o in long_orgs
    ]
    for start in range(0, len(batch), 99):
        store.append(long_stream, store.last_version(long_stream), batch[start : start + 99])
    rows.append(
        measure(
            f"staff: POST decisions, {store.last_version(long_stream)}-event stream",
            20,
            lambda i: commands(
                staff_event(
                    "POST",
                    "/rounds/long/decisions",
                    {"org_number": long_orgs[i], "decision": "admit"},
                    None,
                ),
                context,
            ),
            200,
        )
    )
    return rows


if __name__ == "__main__":
    sys.exit(main())
