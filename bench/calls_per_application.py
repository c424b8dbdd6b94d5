"""AWS calls per delivery and per command, counted at botocore, as a round grows.

    .venv/bin/python bench/calls_per_application.py [--sizes 10,100]

The real handlers, in process under moto, called as API Gateway calls them. Every call their
botocore clients make is counted (service and operation, in order: each is one sequential
round trip on AWS, where nothing here overlaps them). Each scenario is measured on rounds
already holding `size` applications, so a count that grows with the round shows as growth.
Issue 13's targets: a new application in at most 3 calls, a duplicate delivery in at most 1.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from _common import (
    console,
    emulated_aws,
    handler_environment,
    handler_tables,
    header,
    staff_event,
    table,
    typeform_body,
    typeform_headers,
    with_check_digit,
)

TARGETS = {"new application": 3, "duplicate delivery": 1}
STAFF_ARN = "arn:aws:iam::1:user/bench"


class CallLog:
    """Every botocore call made while `recording`, as `service.Operation`."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self._on = False

    @contextlib.contextmanager
    def recording(self) -> Iterator[list[str]]:
        self.calls, self._on = [], True
        try:
            yield self.calls
        finally:
            self._on = False

    def install(self) -> None:
        import botocore.client

        make_api_call = botocore.client.BaseClient._make_api_call  # type: ignore[attr-defined]
        log = self

        def counted(client: Any, operation: str, params: dict[str, Any]) -> Any:
            if log._on:
                log.calls.append(f"{client.meta.service_model.service_name}.{operation}")
            return make_api_call(client, operation, params)

        botocore.client.BaseClient._make_api_call = counted  # type: ignore[attr-defined]


def delivery(event_id: str, org_number: str, round_id: str) -> dict[str, Any]:
    from tests.support.apigw import http_event

    texts = {"org_number": org_number, "agency_name": f"Myndighet {org_number}"}
    texts |= {"director_general": "Generaldirektör Exempel", "contact_name": "Kontakt Exempel"}
    body = typeform_body(
        event_id, round_id, datetime.now(UTC).isoformat(), texts, "kontakt@example.se",
        "digitalisering", form_id="bench", token=event_id, choice_type="multiple_choice",
    )  # fmt: skip
    return http_event("POST", "/webhooks/typeform", body=body, headers=typeform_headers(body))


def run(sizes: list[int]) -> list[tuple[str, int, list[str]]]:
    """(scenario, round size, the calls it made), for each scenario at each size."""
    from domain import ScheduleRound, decide, evolve
    from domain.commands import CloseApplications, OpenApplications
    from domain.streams import round_stream_id
    from functions.commands.app import handler as commands
    from functions.common import bootstrap
    from functions.intake.app import handler as intake
    from infra.command_handler import CommandHandler
    from infra.snapshots import round_state_snapshots
    from programme.stack.clock import ManualClock
    from tests.support.apigw import LambdaContext

    log = CallLog()
    log.install()
    now = datetime.now(UTC)
    days = {"application_closes_at": 7, "starts_at": 14, "plan_due_at": 60, "closes_at": 90}
    dates = {"application_opens_at": now - timedelta(hours=1)}
    dates |= {name: now + timedelta(days=d) for name, d in days.items()}

    def driven(at: datetime) -> CommandHandler[Any, Any]:
        """Setting the rounds up as the handlers would (their snapshots kept), at `at`."""
        return CommandHandler(
            bootstrap.event_store(),
            decide,
            evolve,
            ManualClock(at),
            lambda: uuid.uuid4().hex,
            snapshots=round_state_snapshots(),
        )

    driver, closer = driven(now), driven(dates["application_closes_at"])
    context = LambdaContext()
    found: list[tuple[str, int, list[str]]] = []
    for size in sizes:
        round_id = f"bench-{size}"
        for command in (
            ScheduleRound(round_id, 1, "Bench", size + 10, ("digitalisering",), **dates),
            OpenApplications(round_id),
        ):
            stream = round_stream_id(round_id)
            driver.handle(command, stream_id=stream, actor="b", correlation_id="b")
        orgs = [with_check_digit(f"212{size % 1000:03d}{i:03d}") for i in range(size + 1)]
        for i, org in enumerate(orgs[:-1]):
            assert intake(delivery(f"fill-{size}-{i}", org, round_id), context)["statusCode"] == 202

        def measured(name: str, size: int, call: Callable[[], dict[str, Any]], status: int) -> None:
            with log.recording() as calls:
                answer = call()
            if answer["statusCode"] != status:
                raise SystemExit(f"{name}: answered {answer['statusCode']}: {answer.get('body')}")
            found.append((name, size, list(calls)))

        new = partial(intake, delivery(f"new-{size}", orgs[-1], round_id), context)
        measured("new application", size, new, 202)
        measured("duplicate delivery", size, new, 202)
        close = CloseApplications(round_id)
        closer.handle(close, stream_id=round_stream_id(round_id), actor="b", correlation_id="b")
        body = {"org_number": orgs[0], "decision": "waitlist"}
        decision = staff_event(
            f"/rounds/{round_id}/decisions", body, STAFF_ARN, {"content-type": "application/json"}
        )
        measured("staff decision", size, partial(commands, decision, context), 200)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,100", help="applications already in the round")
    sizes = [int(s) for s in parser.parse_args(argv).sizes.split(",")]
    out = console()
    header(out, "AWS calls per delivery and per command (botocore, in process under moto)")
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
            found = run(sizes)
    result = table(
        "Calls per scenario, each a sequential round trip on AWS",
        ("scenario", "round size", "calls", "target", "met", "the calls, in order"),
        left=("scenario", "the calls, in order"),
    )
    for name, size, calls in found:
        target = TARGETS.get(name)
        met = "" if target is None else ("yes" if len(calls) <= target else "no")
        order = ", ".join(f"{op} x{n}" if n > 1 else op for op, n in _runs(calls))
        result.add_row(
            name, str(size), str(len(calls)), "" if target is None else f"≤ {target}", met, order
        )
    out.print(result)
    totals = Counter(call for _, _, calls in found for call in calls)
    out.print("All calls, by operation: " + ", ".join(f"{k} {v}" for k, v in totals.most_common()))
    return 0


def _runs(calls: list[str]) -> list[tuple[str, int]]:
    """Consecutive repeats folded: a, a, b -> (a, 2), (b, 1)."""
    runs: list[tuple[str, int]] = []
    for call in calls:
        if runs and runs[-1][0] == call:
            runs[-1] = (call, runs[-1][1] + 1)
        else:
            runs.append((call, 1))
    return runs


if __name__ == "__main__":
    sys.exit(main())
