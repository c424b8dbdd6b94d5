"""AWS cost of one 12-agency round, scheduled to closed, driven through the real system in process.

    .venv/bin/python bench/cost_per_round.py [--agencies 12] [--cold-after-minutes 10]

What runs (all under moto, in this process, as `tests/lifecycle` runs it):

- the real handlers: staff commands through `functions.commands.app` and Typeform
  applications through `functions.intake.app` (API Gateway v2 events, signed), the event
  store's DynamoDB stream fed to the projector and the lifecycle starter in batches with the
  template's mapping settings (`programme.stack.streams`, one batch per append: commands are
  seconds to days apart, beyond the 1 s batching window), the real round-lifecycle ASL on
  moto's Step Functions with its Lambda tasks dispatched in process (`programme.stack`);
- round 3 of 2015's dates (scheduled 2014-09-01, closed 2015-12-10: 15 months), with 12
  agencies: applications, admissions, 6 pairs, 6 plans, 6 presentations, and the scheduled
  transitions the state machine fires;
- time is program time that runs at AWS's pace for the state machine: each Wait state lasts
  until the round's next transition is due (`functions.lifecycle.policy`: no cap, since a
  reschedule or cancellation is acted on by the stream-fed starter, not by the loop looking
  again), or until the execution must hand over to its next generation (`RENEW_AFTER` of its
  life, inside Step Functions' one-year limit), as on AWS. The clock (`BarrierClock`) lets a
  Wait end at once in real time while program time jumps to its end, and holds the execution
  whenever it would pass the instant staff act next: the loop count and every read it makes
  are AWS's, not a demo's.

What is counted: Lambda invocations per function (each handler wrapped), their time in
process and the AWS calls they make (botocore hooks on the default session), DynamoDB
requests priced in on-demand request units (`bench/_common.py` states the model), KMS
requests, Step Functions state transitions (StateEntered events of every execution's
history in moto), API Gateway requests, and the bytes the functions log (stdout: Powertools
JSON logs and EMF metrics). The daily reconciler is run once and priced per month.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib
import io
import json
import os
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from _common import (
    REGION,
    UNITS_MODEL,
    DynamoMeter,
    MotoClock,
    Request,
    console,
    emulated_aws,
    handler_environment,
    handler_tables,
    header,
    import_ms,
    item_size,
    staff_event,
    summarise,
    table,
    table_keys,
    typeform_body,
    typeform_headers,
    with_check_digit,
)
from rich.console import Console

from domain import PLAN_REMINDER_LEAD
from programme.round3 import data as r3

ROUND_ID = "2015-3"
BEGINS = datetime.fromisoformat("2014-09-01T09:00:00+00:00")  # program time when the run starts
SCHEDULED_TRANSITIONS = frozenset(
    {
        "ApplicationsOpened",
        "ApplicationsClosed",
        "RoundStarted",
        "PlanReminderIssued",
        "PlanDeadlinePassed",
        "RoundClosed",
    }
)
STAFF_ARN = "arn:aws:iam::123456789012:user/programme-office"
RECONCILER = "LifecycleReconcilerFunction"

# List prices, US$. Regional prices on AWS's pricing pages are filled in by script, so only
# Step Functions' could be read for Europe (Stockholm); the rest are US East (N. Virginia).
PRICES = {
    "lambda_gb_s": (
        0.0000133334,
        "Lambda arm64 per GB-s, us-east-1 (aws.amazon.com/lambda/pricing; Stockholm not confirmed)",
    ),
    "lambda_request": (0.20 / 1e6, "Lambda per request ($0.20/M), us-east-1"),
    "ddb_rru": (
        0.125 / 1e6,
        "DynamoDB on-demand per read request unit ($0.125/M), us-east-1, after the Nov 2024 cut",
    ),
    "ddb_wru": (0.625 / 1e6, "DynamoDB on-demand per write request unit ($0.625/M), us-east-1"),
    "sfn_transition": (
        0.025 / 1000,
        "Step Functions Standard per transition ($0.025/1,000), Europe (Stockholm), "
        "aws.amazon.com/step-functions/pricing",
    ),
    "apigw_request": (
        1.00 / 1e6,
        "API Gateway HTTP API per request ($1.00/M, first 300M), us-east-1",
    ),
    "kms_request": (0.03 / 10_000, "KMS per request ($0.03/10,000), aws.amazon.com/kms/pricing"),
    "kms_key_month": (1.00, "KMS customer managed key per month ($1), aws.amazon.com/kms/pricing"),
    "logs_gb": (0.50, "CloudWatch Logs ingestion per GB ($0.50), us-east-1"),
    "logs_gb_month": (0.03, "CloudWatch Logs storage per GB-month ($0.03), us-east-1"),
    "xray_trace": (5.00 / 1e6, "X-Ray per trace recorded ($5.00/M), us-east-1"),
    "alarm_month": (0.10, "CloudWatch standard alarm per month ($0.10), us-east-1"),
    "metric_month": (
        0.30,
        "CloudWatch custom metric per month ($0.30, prorated hourly), us-east-1",
    ),
    "ddb_storage_gb_month": (0.25, "DynamoDB storage per GB-month ($0.25), us-east-1"),
    "pitr_gb_month": (0.20, "DynamoDB PITR per GB-month ($0.20), us-east-1"),
}
# Assumed in-region latency of one AWS call from Lambda (moto answers in process instead).
CALL_LATENCY_MS = {"dynamodb": 5.0, "kms": 8.0, "sfn": 20.0, "ssm": 10.0}  # by botocore service id
PLATFORM_LOG_BYTES = 600  # START, END and REPORT lines per invocation (JSON log format)
INIT_LOG_BYTES = 150  # the INIT_START line of a cold start
LOG_EVENT_OVERHEAD = 26  # bytes CloudWatch Logs counts per log event
ACCESS_LOG_BYTES = 180  # one HTTP API access-log line in the template's format


def price(name: str) -> float:
    return PRICES[name][0]


# ----------------------------------------------------------------------- what is measured


class CountingStdout(io.TextIOBase):
    """Stands in for stdout: counts the bytes each thread writes (the functions' logs) and
    remembers the EMF metric definitions among them; prints nothing."""

    def __init__(self) -> None:
        self._bytes: dict[int, int] = defaultdict(int)
        self._lines: dict[int, int] = defaultdict(int)
        self.clock: Callable[[], datetime] | None = None
        # (namespace, metric, dimensions) -> the program-time hours it got data in
        self.metrics: dict[tuple[str, str, tuple[str, ...]], set[str]] = defaultdict(set)

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        ident = threading.get_ident()
        self._bytes[ident] += len(text.encode())
        self._lines[ident] += text.count("\n")
        if '"_aws"' in text:
            with contextlib.suppress(ValueError, KeyError, TypeError):
                line = json.loads(text)
                hour = self.clock().strftime("%Y-%m-%dT%H") if self.clock else ""
                for directive in line["_aws"]["CloudWatchMetrics"]:
                    dims = tuple(
                        sorted(
                            f"{d}={line.get(d)}" for group in directive["Dimensions"] for d in group
                        )
                    )
                    for metric in directive["Metrics"]:
                        self.metrics[(directive["Namespace"], metric["Name"], dims)].add(hour)
        return len(text)

    def mine(self) -> tuple[int, int]:
        ident = threading.get_ident()
        return self._bytes[ident], self._lines[ident]


@dataclass
class Invocation:
    function: str
    at: datetime  # program time
    ms: float
    moto_ms: float
    calls: Counter[str]
    log_bytes: int
    log_lines: int
    cold: bool = False


@dataclass
class Recorder:
    """Wraps handlers: one `Invocation` per call, and the AWS calls made inside it."""

    clock: Callable[[], datetime]
    stdout: CountingStdout
    invocations: list[Invocation] = field(default_factory=list)
    harness_calls: Counter[str] = field(default_factory=Counter)
    _local: threading.local = field(default_factory=threading.local)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def current(self) -> str:
        stack = getattr(self._local, "stack", [])
        return stack[-1][0] if stack else "harness"

    def count_call(self, event_name: str, **_: Any) -> None:
        service, operation = event_name.split(".", 2)[1:]  # before-call.<service>.<Operation>
        stack = getattr(self._local, "stack", [])
        if stack:
            stack[-1][1][f"{service}.{operation}"] += 1
        else:
            self.harness_calls[f"{service}.{operation}"] += 1

    def wrap(self, name: str, handler: Callable[..., Any]) -> Callable[..., Any]:
        def invoked(event: Any, context: Any) -> Any:
            stack = self._local.__dict__.setdefault("stack", [])
            calls: Counter[str] = Counter()
            stack.append((name, calls))
            at = self.clock()
            log_bytes, log_lines = self.stdout.mine()
            in_moto = MotoClock.spent()
            parked = getattr(self.clock, "parked_here", lambda: 0.0)
            parked_before = parked()
            started = time.perf_counter()
            try:
                return handler(event, context)
            finally:
                # time held at the barrier (program time standing still) is not the handler's
                elapsed = time.perf_counter() - started - (parked() - parked_before)
                stack.pop()
                wrote, lines = self.stdout.mine()
                moto_ms = (MotoClock.spent() - in_moto) * 1000
                logged = (wrote - log_bytes, lines - log_lines)
                with self._lock:
                    self.invocations.append(
                        Invocation(name, at, elapsed * 1000, moto_ms, calls, *logged)
                    )

        return invoked


def handler_at(path: str) -> Callable[..., Any]:
    module, _, attribute = path.rpartition(".")
    return getattr(importlib.import_module(module), attribute)  # type: ignore[no-any-return]


# ----------------------------------------------------------------------- the barrier clock


def barrier_clock(start: datetime) -> Any:
    from infra.clock import wall_clock
    from programme.stack.clock import ManualClock

    class BarrierClock(ManualClock):
        """Program time for the lifecycle, at AWS's pace, with no real waiting.

        `NextTransition` asks the clock when, in real time, its Wait state should end
        (`policy.wake_at`). This clock answers "already" and moves program time to that
        instant, unless the instant lies beyond `limit` (when staff act next): then it holds
        the task until the driver raises the limit. So each Wait is one loop of the state
        machine, as on AWS, and staff act between loops at their own instants.
        """

        def __init__(self) -> None:
            super().__init__(start)
            self._cond = threading.Condition()
            self._limit = start
            self.parked: datetime | None = None
            self.released = False
            self._parked_seconds: dict[int, float] = defaultdict(float)

        def parked_here(self) -> float:
            """Real seconds this thread has been held at the barrier, in all."""
            return self._parked_seconds[threading.get_ident()]

        def wall_time(self, instant: datetime) -> datetime:
            with self._cond:
                self.parked = instant
                self._cond.notify_all()
                held = time.perf_counter()
                self._cond.wait_for(lambda: self._limit >= instant or self.released)
                self._parked_seconds[threading.get_ident()] += time.perf_counter() - held
                self.parked = None
                if instant > self():
                    self.advance_to(instant)
            return wall_clock() - timedelta(seconds=2)  # moto's Wait then ends at once

        def run_until(self, instant: datetime, finished: Callable[[], bool]) -> None:
            """Let the lifecycle run up to `instant`; return once it waits past it (or is
            finished), with program time at `instant`."""
            deadline = time.monotonic() + 600
            with self._cond:
                self._limit = max(self._limit, instant)
                self._cond.notify_all()
                while not (self.parked is not None and self.parked > instant):
                    if finished() or time.monotonic() > deadline:
                        break
                    self._cond.wait(0.05)
            if instant > self():
                self.advance_to(instant)

        def release(self) -> None:
            with self._cond:
                self.released = True
                self._cond.notify_all()

    return BarrierClock()


# --------------------------------------------------------------------------- the requests


def typeform_event(org: str, name: str, theme: str, n: int, submitted: datetime) -> dict[str, Any]:
    from tests.support.apigw import http_event

    texts = {"org_number": org, "agency_name": name}
    texts |= {"director_general": f"Generaldirektör {n}", "contact_name": f"Kontakt {n}"}
    body = typeform_body(
        f"tf-{n}", ROUND_ID, iso(submitted), texts, f"kontakt{n}@example.se", theme,
        form_id="utvecklingsprogrammet", token=f"tok-{n}",
    )  # fmt: skip
    return http_event("POST", "/webhooks/typeform", body=body, headers=typeform_headers(body))


def iso(instant: datetime) -> str:
    return instant.isoformat().replace("+00:00", "Z")


# ------------------------------------------------------------------------------ the round


@dataclass
class Stack:
    recorder: Recorder
    clock: Any
    pump: Any
    sfn: Any
    state_machine_arn: str
    handlers: dict[str, Callable[..., Any]]
    setup: Any  # the DynamoDB client that made the tables
    tables: dict[str, str]
    meter: DynamoMeter
    failures: list[Any]  # stream records given up on

    def http(self, function: str, event: dict[str, Any], expect: int) -> None:
        from programme.stack.apigw import LambdaContext

        response = self.handlers[function](event, LambdaContext(function_name=function))
        if response.get("statusCode") != expect:
            raise SystemExit(f"{function} answered {response.get('statusCode')}: {response}")
        self.pump.pump()

    def staff(self, path: str, body: dict[str, Any], expect: int = 200) -> None:
        self.http("CommandsFunction", staff_event(path, body, STAFF_ARN), expect)

    def executions(self) -> dict[str, str]:
        listed = self.sfn.list_executions(stateMachineArn=self.state_machine_arn)["executions"]
        return {item["name"]: item["status"] for item in listed}

    def finished(self) -> bool:
        statuses = self.executions().values()
        return bool(statuses) and all(status != "RUNNING" for status in statuses)

    def at(self, instant: datetime) -> None:
        self.clock.run_until(instant, self.finished)

    def reconcile(self) -> None:
        """The daily reconciler's run, as Scheduler fires it (asynchronously, input {})."""
        from programme.stack.apigw import LambdaContext

        context = LambdaContext(function_name="LifecycleReconcilerFunction")
        answer = self.handlers["LifecycleReconcilerFunction"]({}, context)
        if answer.get("started"):
            raise SystemExit(f"the reconciler started an execution of a running round: {answer}")


def walk_round(stack: Stack, agencies: int) -> None:
    """Round 3 from scheduled to closed: staff and applicants each at their own instants."""
    themes = list(r3.THEMES)
    known = [(a.org_number, a.name) for a in r3.AGENCIES]
    extra = [(with_check_digit(f"20240{n:04d}"), f"Myndighet {n}") for n in range(agencies)]
    orgs = (known + extra)[:agencies]

    stack.staff(
        "/rounds",
        {
            "round_id": ROUND_ID,
            "number": 3,
            "title": r3.TITLE,
            "capacity": agencies,
            "themes": themes,
            "application_opens_at": iso(r3.APPLICATION_OPENS_AT),
            "application_closes_at": iso(r3.APPLICATION_CLOSES_AT),
            "starts_at": iso(r3.STARTS_AT),
            "plan_due_at": iso(r3.PLAN_DUE_AT),
            "closes_at": iso(r3.CLOSES_AT),
        },
        expect=201,
    )
    if not stack.executions():
        raise SystemExit("the starter did not start the round's execution from the stream")
    spacing = (r3.APPLICATION_CLOSES_AT - r3.APPLICATION_OPENS_AT - timedelta(days=5)) / agencies
    for n, (org, name) in enumerate(orgs):  # spread over the window, from day 3
        submitted = r3.APPLICATION_OPENS_AT + timedelta(days=3) + n * spacing
        stack.at(submitted)
        stack.http(
            "IntakeFunction", typeform_event(org, name, themes[(n // 2) % 3], n, submitted), 202
        )
    decided = r3.APPLICATION_CLOSES_AT + timedelta(days=7)
    stack.at(decided)
    for n, (org, _) in enumerate(orgs):  # a staff session: a minute apart
        stack.at(decided + timedelta(minutes=n))
        stack.staff(
            f"/rounds/{ROUND_ID}/decisions",
            {"org_number": org, "decision": "admit", "case_number": f"ESV 2014/{101 + n}"},
        )
    for p in range(agencies // 2):
        stack.at(decided + timedelta(minutes=agencies + p))
        members = [orgs[2 * p][0], orgs[2 * p + 1][0]]
        stack.staff(
            f"/rounds/{ROUND_ID}/pairs",
            {"org_numbers": members, "theme": themes[p % 3]},
            expect=201,
        )
    stack.at(r3.STARTS_AT + timedelta(days=30))
    stack.reconcile()  # one of its daily runs, while the round is live
    plans_at = r3.PLAN_DUE_AT - PLAN_REMINDER_LEAD + timedelta(days=4)
    for p in range(agencies // 2):  # plans come in over a few days
        stack.at(plans_at + timedelta(days=p))
        stack.staff(
            f"/rounds/{ROUND_ID}/plans",
            {
                "pair_id": f"pair-{p + 1}",
                "title": "Strategisk utvecklingsplan",
                "document_url": f"https://programme.example.se/plans/{ROUND_ID}/pair-{p + 1}.pdf",
                "document_sha256": hashlib.sha256(f"plan {p}".encode()).hexdigest(),
            },
        )
    presentations = r3.CLOSES_AT - timedelta(days=7)
    for p in range(agencies // 2):  # one seminar day, a presentation an hour
        held = presentations + timedelta(hours=p)
        stack.at(held + timedelta(minutes=50))
        stack.staff(
            f"/rounds/{ROUND_ID}/presentations", {"pair_id": f"pair-{p + 1}", "held_at": iso(held)}
        )
    stack.at(r3.CLOSES_AT + timedelta(days=2))


# ----------------------------------------------------------------------- running the stack


def functions_of(template: dict[str, Any]) -> tuple[dict[str, str], dict[str, float]]:
    """Each function's handler (logical id -> dotted path), and its memory in GB."""
    resources = template["Resources"]
    functions = {
        logical_id: resource["Properties"]["Handler"]
        for logical_id, resource in resources.items()
        if resource.get("Type") == "AWS::Serverless::Function"
    }
    default = template.get("Globals", {}).get("Function", {}).get("MemorySize", 128)
    memory = {f: resources[f]["Properties"].get("MemorySize", default) / 1024 for f in functions}
    return functions, memory


def run_round(
    template: dict[str, Any], functions: dict[str, str], counting: CountingStdout, agencies: int
) -> Measured:
    """The round on the template's stack under moto, scheduled to closed."""
    from programme.stack.lambdas import uninstall
    from programme.stack.lifecycle import MOTO_CONFIG

    with emulated_aws(config=MOTO_CONFIG):
        stack = start_stack(template, functions, counting)
        try:
            walk_round(stack, agencies)
            if not stack.finished():
                raise SystemExit(f"the round's lifecycle did not finish: {stack.executions()}")
            requests = list(stack.meter.requests)
        finally:
            stack.clock.release()
            uninstall()
        return Measured(stack, requests, counting)


def start_stack(
    template: dict[str, Any], functions: dict[str, str], counting: CountingStdout
) -> Stack:
    """The template's tables and state machine; every handler wrapped and counted, and the
    lifecycle's tasks and the event store's stream dispatched to them in process."""
    import boto3

    from functions.common import bootstrap
    from programme.stack.lambdas import LocalLambdas, install
    from programme.stack.lifecycle import LIFECYCLE_FUNCTIONS, create_round_lifecycle
    from programme.stack.streams import Consumer, StreamPump, stream_mappings

    setup, tables = handler_tables(template)
    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn = create_round_lifecycle(sfn)
    os.environ.update(STATE_MACHINE_ARN=arn)
    bootstrap.reset()
    clock = barrier_clock(BEGINS)
    bootstrap.set_clock(clock)
    recorder = Recorder(clock, counting)
    meter = DynamoMeter(table_keys(template), tagger=recorder.current)
    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    session = boto3.DEFAULT_SESSION
    assert session is not None
    meter.attach(session.events)
    session.events.register("before-call", recorder.count_call)
    counting.clock = clock
    handlers = {}
    for name, path in functions.items():  # each module's Logger/Metrics get its service name
        variables = template["Resources"][name]["Properties"].get("Environment", {})
        service = variables.get("Variables", {}).get("POWERTOOLS_SERVICE_NAME", name)
        os.environ["POWERTOOLS_SERVICE_NAME"] = service
        handlers[name] = recorder.wrap(name, handler_at(path))

    def apply_transition(event: Any, context: Any) -> Any:
        try:
            return handlers["ApplyTransitionFunction"](event, context)
        finally:
            pump.pump()  # the appended events reach the projector as one batch

    lifecycle = {name: handlers[name] for name in LIFECYCLE_FUNCTIONS}
    lifecycle["ApplyTransitionFunction"] = apply_transition
    install(LocalLambdas(lifecycle))
    described = setup.describe_table(TableName=tables["EventStoreTable"])
    mappings = stream_mappings(template, "EventStoreTable")
    failures: list[Any] = []
    pump = StreamPump(
        boto3.client("dynamodbstreams", region_name=REGION),
        described["Table"]["LatestStreamArn"],
        [Consumer.of(m, handlers[m.function]) for m in mappings],
        lambda consumer, records: failures.append((consumer.name, records)),
    )
    return Stack(recorder, clock, pump, sfn, arn, handlers, setup, tables, meter, failures)


class Measured:
    """What the round's run recorded, once its lifecycle had finished: the invocations and
    DynamoDB requests until then, the executions' histories, the round's events and final
    state, the tables' sizes."""

    def __init__(self, stack: Stack, requests: list[Request], counting: CountingStdout) -> None:
        from domain import fold
        from domain.streams import round_stream_id
        from functions.common import bootstrap

        self.invocations, self.requests = stack.recorder.invocations, requests
        self.failures, self.metrics = stack.failures, counting.metrics
        self.histories: dict[str, tuple[str, list[dict[str, Any]]]] = {}
        for name, status in stack.executions().items():
            execution = stack.state_machine_arn.replace(":stateMachine:", ":execution:")
            pages = stack.sfn.get_paginator("get_execution_history").paginate(
                executionArn=f"{execution}:{name}"
            )
            self.histories[name] = (status, [e for page in pages for e in page["events"]])
        recorded = list(bootstrap.event_store().read(round_stream_id(ROUND_ID)))
        final = fold(r.event for r in recorded)
        if final is None or final.status != "closed":
            raise SystemExit(f"the round did not close: {final}")
        self.final = final
        self.types = [r.event.type for r in recorded]
        scan = stack.setup.get_paginator("scan")
        self.stored = {  # table (logical id) -> bytes of its items
            logical_id: sum(
                item_size(item) for page in scan.paginate(TableName=name) for item in page["Items"]
            )
            for logical_id, name in stack.tables.items()
        }


# ------------------------------------------------------------------------------- costing


def init_ms(modules: dict[str, str]) -> dict[str, float]:
    """Import time of each function's module in a fresh interpreter: its cold start's share."""
    return {function: import_ms(module) for function, module in modules.items()}


def aws_ms(invocation: Invocation) -> float:
    """The invocation's duration on AWS, estimated: its own work here, plus each AWS call's
    round trip instead of moto's emulation."""
    calls = sum(
        count * CALL_LATENCY_MS.get(name.split(".")[0], 5.0)
        for name, count in invocation.calls.items()
    )
    return max(1.0, invocation.ms - invocation.moto_ms) + calls


def mark_cold(invocations: list[Invocation], idle: timedelta) -> None:
    last: dict[str, datetime] = {}
    for invocation in sorted(invocations, key=lambda i: i.at):
        previous = last.get(invocation.function)
        invocation.cold = previous is None or invocation.at - previous > idle
        last[invocation.function] = invocation.at


@dataclass
class Usage:
    """What a set of invocations used."""

    invocations: int = 0
    cold: int = 0
    gb_s: float = 0.0
    rru: float = 0.0
    wru: float = 0.0
    kms: int = 0
    log_bytes: float = 0.0
    http: int = 0

    def lambda_cost(self) -> float:
        return self.invocations * price("lambda_request") + self.gb_s * price("lambda_gb_s")


def usage_of(
    invocations: list[Invocation],
    dynamo: dict[str, dict[str, float]],
    memory_gb: dict[str, float],
    inits: dict[str, float],
) -> dict[str, Usage]:
    found: dict[str, Usage] = defaultdict(Usage)
    for invocation in invocations:
        usage = found[invocation.function]
        usage.invocations += 1
        usage.cold += invocation.cold
        seconds = (
            aws_ms(invocation) + (inits.get(invocation.function, 0.0) if invocation.cold else 0)
        ) / 1000
        usage.gb_s += memory_gb[invocation.function] * seconds
        usage.kms += sum(n for name, n in invocation.calls.items() if name.startswith("kms."))
        usage.log_bytes += (
            invocation.log_bytes
            + PLATFORM_LOG_BYTES
            + (INIT_LOG_BYTES if invocation.cold else 0)
            + LOG_EVENT_OVERHEAD * (invocation.log_lines + 3)
        )
        usage.http += invocation.function in ("IntakeFunction", "CommandsFunction")
    for function, units in dynamo.items():
        found[function].rru += units["rru"]
        found[function].wru += units["wru"]
    return found


def money(value: float) -> str:
    return f"{value:.6f}" if value < 0.01 else f"{value:.4f}"


class Costing:
    """The round's invocations and requests, priced per function."""

    def __init__(
        self, measured: Measured, functions: dict[str, str], memory_gb: dict[str, float], args: Any
    ) -> None:
        self.memory_gb, self.traced = memory_gb, 1 if args.traced else 0
        invocations = measured.invocations
        mark_cold(invocations, timedelta(minutes=args.cold_after_minutes))
        self.reconciler = [i for i in invocations if i.function == RECONCILER]
        self.per_round = [i for i in invocations if i.function != RECONCILER]
        for invocation in self.reconciler:
            invocation.cold = True  # once a day
        self.reconciler_requests = [r for r in measured.requests if r.tag == RECONCILER]
        self.round_requests = [r for r in measured.requests if r.tag != RECONCILER]
        dynamo: dict[str, dict[str, float]] = defaultdict(lambda: {"rru": 0.0, "wru": 0.0})
        for request in self.round_requests:
            dynamo[request.tag]["rru"] += request.read_units
            dynamo[request.tag]["wru"] += request.write_units
        self.harness_units = dynamo.pop("harness", {"rru": 0.0, "wru": 0.0})  # the bench's own
        self.inits = init_ms({f: functions[f].rpartition(".")[0] for f in functions})
        self.usage = usage_of(self.per_round, dynamo, memory_gb, self.inits)
        self.totals = Usage()
        for u in self.usage.values():
            for name in ("invocations", "cold", "gb_s", "rru", "wru", "kms", "log_bytes", "http"):
                setattr(self.totals, name, getattr(self.totals, name) + getattr(u, name))
        self.transitions: Counter[str] = Counter()
        for _, events in measured.histories.values():
            for event in events:
                if event["type"].endswith("StateEntered"):
                    self.transitions[event["stateEnteredEventDetails"]["name"]] += 1
        self.total_transitions = sum(self.transitions.values())


# ------------------------------------------------------------------------------ printing


def print_per_function(out: Console, c: Costing) -> None:
    by_function = table(
        "Per function, one round (program time 2014-09-01 to 2015-12-12)",
        ("function", "invocations", "cold", "own ms, sum", "GB-s est.", "RRU", "WRU", "KMS req",
         "log KB"),
        left=("function",),
    )  # fmt: skip
    for function in sorted(c.usage, key=lambda f: -c.usage[f].invocations):
        u = c.usage[function]
        own = sum(i.ms - i.moto_ms for i in c.per_round if i.function == function)
        by_function.add_row(
            function.removesuffix("Function"),
            f"{u.invocations}",
            f"{u.cold}",
            f"{own:,.0f}",
            f"{u.gb_s:.2f}",
            f"{u.rru:g}",
            f"{u.wru:g}",
            f"{u.kms}",
            f"{u.log_bytes / 1024:.0f}",
        )
    t = c.totals
    by_function.add_row(
        "[bold]total[/bold]", f"{t.invocations}", f"{t.cold}", "", f"{t.gb_s:.2f}",
        f"{t.rru:g}", f"{t.wru:g}", f"{t.kms}", f"{t.log_bytes / 1024:.0f}",
    )  # fmt: skip
    out.print(by_function)
    writes: Counter[str] = Counter()
    items: Counter[str] = Counter()
    for request in c.round_requests:
        if request.operation == "TransactWriteItems":
            writes[request.tag] += 1
            items[request.tag] += request.items
    out.print(
        "DynamoDB writes are transactions: "
        + "; ".join(
            f"{name.removesuffix('Function')} {writes[name]} of {items[name] / writes[name]:.1f} "
            f"items on average"
            for name in sorted(writes, key=lambda n: -items[n])
        )
        + " (2 WRU per KB per item; the projector's are the stream's checkpoint item and the "
        "documents that changed, per event, on the read-model table; the event store's are the "
        "stream's tip (head and snapshot) and the new event)."
    )


def print_transitions(out: Console, measured: Measured, c: Costing) -> None:
    from functions.lifecycle.policy import RENEW_AFTER

    states = table(
        "Step Functions transitions (states entered), all executions",
        ("state", "entered"),
        left=("state",),
        min_width=64,
    )
    for name, count in c.transitions.most_common():
        states.add_row(name, f"{count}")
    states.add_row("[bold]total[/bold]", f"{c.total_transitions}")
    out.print(states)
    loops = c.transitions.get("WaitUntilDue", 0)
    scheduled = sum(t in SCHEDULED_TRANSITIONS for t in measured.types)
    round_days = (measured.final.dates.closes_at - BEGINS).days
    day_capped = 4 * round_days + 2
    handovers = c.transitions.get("HandOver", 0)
    out.print(
        f"Executions: {', '.join(f'{n} ({s})' for n, (s, _) in measured.histories.items())}. "
        f"{loops} Wait states, one per loop of NextTransition + Route + WaitUntilDue + "
        f"ApplyTransition (4 transitions, 2 Lambda invocations, 2 reads of the whole stream): "
        f"each Wait lasts until the next transition is due, so the round loops once per "
        f"scheduled transition ({scheduled}), plus once per hand-over ({handovers} here), where "
        f"an execution's Wait ends at its renewal instant ({RENEW_AFTER.days} days into its "
        "life) and it starts the next generation (HandOver, HandedOver, then Begin of the "
        "next). A reschedule or a "
        "cancellation (none here) costs a stopped execution and, for a reschedule, a fresh "
        "one's first loop (about 4 transitions). The earlier design, a Wait capped at a day so "
        f"that an earlier date was seen within a day, looped once a day: about {day_capped} "
        f"transitions (US$ {money(day_capped * price('sfn_transition'))}) for this round's "
        f"{round_days} days, not {c.total_transitions}.",
        highlight=False,
    )


def print_bill(out: Console, c: Costing) -> float:
    """The round's cost per service; its total."""
    # The template's Tracing parameter: PassThrough by default (no traces); with --traced,
    # Active, and at this rate the default sampling keeps about every request.
    t = c.totals
    traces = t.invocations * c.traced
    log_bytes = t.log_bytes + t.http * ACCESS_LOG_BYTES
    lines = [  # service, quantity, US$
        ("Lambda (requests + GB-s, arm64 512 MB)", f"{t.invocations} req, {t.gb_s:.1f} GB-s",
         t.lambda_cost()),
        ("DynamoDB on-demand (RRU + WRU)", f"{t.rru:g} RRU, {t.wru:g} WRU",
         t.rru * price("ddb_rru") + t.wru * price("ddb_wru")),
        ("Step Functions Standard (transitions)", f"{c.total_transitions} transitions",
         c.total_transitions * price("sfn_transition")),
        ("API Gateway HTTP API (requests)", f"{t.http} requests", t.http * price("apigw_request")),
        ("KMS (requests)", f"{t.kms} requests", t.kms * price("kms_request")),
        ("CloudWatch Logs (ingestion)", f"{log_bytes / 1024:.0f} KB",
         log_bytes / 2**30 * price("logs_gb")),
        ("X-Ray (traces recorded)",
         f"{traces} traces" + ("" if c.traced else " (Tracing: PassThrough, the default)"),
         traces * price("xray_trace")),
        ("SQS / SNS (failure queues, alarm topic)", "0 messages (nothing failed)", 0.0),
        ("DynamoDB Streams reads by Lambda", "free for Lambda triggers", 0.0),
    ]  # fmt: skip
    bill = table(
        "Cost of one round (list prices, no free tiers)",
        ("service", "quantity", "US$", "share"),
        left=("service",),
    )
    total = sum(cost for _, _, cost in lines)
    for name, quantity, cost in sorted(lines, key=lambda line: -line[2]):
        bill.add_row(name, quantity, money(cost), f"{cost / total:.0%}" if total else "")
    verdict = "[green]PASS[/green]" if total < 0.01 else "[red]FAIL[/red]"
    bill.add_row(
        "[bold]total per round[/bold]",
        "",
        f"[bold]{money(total)}[/bold]",
        f"target < 0.01: {verdict}",
    )
    out.print(bill)
    if not c.traced:
        extra = t.invocations * price("xray_trace")
        out.print(
            f"Deployed with Tracing=Active (to investigate): + {t.invocations} X-Ray traces "
            f"= + US$ {money(extra)} per round, US$ {money(total + extra)} in all (--traced)."
        )
    return total


def print_loop_cost(out: Console, c: Costing, total: float) -> None:
    lifecycle = [
        c.usage[f]
        for f in ("NextTransitionFunction", "ApplyTransitionFunction", "HandOverFunction")
        if f in c.usage
    ]
    loop_cost = sum(
        u.lambda_cost() + u.rru * price("ddb_rru") + u.wru * price("ddb_wru") for u in lifecycle
    )
    loop_cost += c.total_transitions * price("sfn_transition")
    loop_cost += sum(u.log_bytes for u in lifecycle) / 2**30 * price("logs_gb")
    loop_cost += sum(u.invocations for u in lifecycle) * price("xray_trace") * c.traced
    out.print(
        "Of which the lifecycle loop (its transitions, its Lambdas' compute, reads, logs and "
        f"traces): US$ {money(loop_cost)} ({loop_cost / total:.0%})."
    )


def print_fixed(out: Console, measured: Measured, c: Costing) -> None:
    """What the stack costs a month whether or not a round runs, and what a round leaves."""
    fixed = table(
        "Costs that do not scale to zero when idle (per month)",
        ("what", "US$/month", "note"),
        left=("what", "note"),
    )
    fixed.add_row(
        "KMS keys (PersonalDataKey, AlarmTopicKey)", "2.00",
        "$1 each; rotation (EnableKeyRotation) adds $1/month per rotated key version, for the "
        "first two rotations",
    )  # fmt: skip
    fixed.add_row(
        "CloudWatch alarms (4)",
        "0.40",
        "$0.10 each (the account's first 10 alarm metrics are free)",
    )
    fixed.add_row(*reconciler_row(c))
    fixed.add_row(*metrics_row(measured))
    stored, event_count = measured.stored, len(measured.types)
    log_gb = (c.totals.log_bytes + c.totals.http * ACCESS_LOG_BYTES) / 2**30
    event_store_gb = (stored["EventStoreTable"] + 100 * event_count) / 2**30
    other_gb = sum(v for k, v in stored.items() if k != "EventStoreTable") / 2**30
    fixed.add_row(
        "storage of one finished round (accumulates)",
        money(
            event_store_gb * (price("ddb_storage_gb_month") + price("pitr_gb_month"))
            + other_gb * price("ddb_storage_gb_month")
        ),
        f"event store {stored['EventStoreTable'] / 1024:.0f} KB ({event_count} events, + PITR), "
        f"read models etc. {other_gb * 2**30 / 1024:.0f} KB; +100 B/item overhead; logs kept "
        f"365 days: {money(log_gb * price('logs_gb_month'))}/month",
    )
    out.print(fixed)


def reconciler_row(c: Costing) -> tuple[str, str, str]:
    """The daily reconciler, from its one run here, 30 times a month."""
    units = summarise(c.reconciler_requests)
    usage = usage_of(c.reconciler, {RECONCILER: units}, c.memory_gb, c.inits)
    rec = usage.get(RECONCILER, Usage())
    per_run = (
        rec.lambda_cost()
        + rec.rru * price("ddb_rru")
        + rec.log_bytes / 2**30 * price("logs_gb")
        + rec.invocations * price("xray_trace") * c.traced
    )
    return (
        "daily reconciler (30 runs)",
        money(30 * per_run),
        f"per run: 1 invocation, {units['reads']:.0f} DynamoDB read(s) = {rec.rru:g} RRU, "
        f"{recorder_calls(c.reconciler, 'sfn')} Step Functions API call(s) (free), "
        f"{rec.log_bytes / 1024:.1f} KB logs; Scheduler: 14M free invocations/month",
    )


def metrics_row(measured: Measured) -> tuple[str, str, str]:
    """The EMF metrics, each billed for the hours a month it gets data."""
    round_months = (measured.final.dates.closes_at - BEGINS).days / 30.44
    metric_hours = {  # the reconciler runs daily whether or not a round is live
        key: 30.0 if "service=lifecycle-reconciler" in key[2] else len(hours) / round_months
        for key, hours in measured.metrics.items()
    }
    metric_cost = sum(hours / 730 * price("metric_month") for hours in metric_hours.values())
    seen = ", ".join(
        f"{name} ({', '.join(dims)}) {hours:.1f} h"
        for (_, name, dims), hours in sorted(metric_hours.items(), key=lambda kv: -kv[1])
    )
    return (
        f"custom metrics via EMF ({len(measured.metrics)} seen)",
        money(metric_cost),
        f"$0.30/metric-month prorated by the hours a metric gets data (hours/month here: {seen}); "
        "shared by all live rounds; the account's first 10 custom metrics are free",
    )


def print_sources(out: Console, c: Costing, cold_after_minutes: float) -> None:
    """The prices, their sources, and what the figures assume."""
    init_list = ", ".join(
        f"{k.removesuffix('Function')} {v:.0f}" for k, v in sorted(c.inits.items())
    )
    notes = table(
        "Prices used and their sources", ("price", "source"), left=("price", "source"),
        show_header=False,
    )  # fmt: skip
    for name, (value, source) in PRICES.items():
        notes.add_row(f"{name} = {value:.10g}", source)
    out.print(notes)
    free = (
        "With the always-free tiers (Step Functions 4,000 transitions, Lambda 1M requests and "
        "400,000 GB-s, X-Ray 100,000 traces, KMS 20,000 requests, CloudWatch 5 GB of logs, 10 "
        "metrics and 10 alarms a month) one live round at a time bills almost nothing beyond "
        "the KMS keys; the figures above are list prices, so that they add up per round."
    )
    out.print(free)
    out.print(
        "Assumptions. Lambda duration = this machine's time outside moto + an assumed round trip "
        f"per AWS call ({', '.join(f'{k} {v:g}' for k, v in CALL_LATENCY_MS.items())} ms); a 512 "
        "MB function has about a third of a vCPU, so CPU-bound parts may take 2-3x longer there. "
        f"A function idle for more than {cold_after_minutes:g} min (program time) starts "
        "cold, and its INIT is billed (managed runtimes, since 1 Aug 2025): init = the import "
        f"time of its module in a fresh interpreter here ({init_list} ms; the runtime's own "
        "start is not included). Logs: the bytes the handlers wrote (Powertools at its INFO "
        f"default, EMF metrics) + {PLATFORM_LOG_BYTES} B of START/END/REPORT per invocation + "
        f"{LOG_EVENT_OVERHEAD} B per log event; HTTP API access logs {ACCESS_LOG_BYTES} B per "
        "request. X-Ray: none with the template's default Tracing (PassThrough); with --traced, "
        "one trace per invocation (at this traffic the default sampling keeps the first request "
        "each second). Not counted: SSM GetParameter for the "
        "webhook and pseudonym secrets (standard parameters: free; cached 5 min), KMS calls made "
        "for SecureString decryption and DynamoDB's AWS-managed table keys (a few per cold "
        "start), staff queries (GET routes): the round's life here is its writes and lifecycle."
    )
    out.print(UNITS_MODEL)
    if c.harness_units["rru"] or c.harness_units["wru"]:
        out.print(f"(the bench's own DynamoDB use, not priced: {c.harness_units})")


# ---------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agencies", type=int, default=12, help="agencies in the round (12)")
    parser.add_argument(
        "--cold-after-minutes",
        type=float,
        default=10.0,
        help="idle minutes after which a function's next invocation is a cold start (10)",
    )
    parser.add_argument(
        "--traced",
        action="store_true",
        help="price the stack deployed with Tracing=Active (X-Ray on; the default is off)",
    )
    args = parser.parse_args(argv)
    if args.agencies % 2 or not 2 <= args.agencies <= 200:
        raise SystemExit("an even number of agencies from 2 to 200, please")

    out = console()
    began = time.perf_counter()
    header(
        out, f"AWS cost of one {args.agencies}-agency round, scheduled to closed (in process, moto)"
    )
    counting = CountingStdout()
    sys.stdout = counting  # the functions' logs: counted, not shown (tables go to __stdout__)
    handler_environment(
        "programme-engine",
        "ProgrammeEngine",
        "bench-actor-pseudonym-key-of-32-bytes!",
        POWERTOOLS_LOGGER_LOG_EVENT="false",
        AWS_LAMBDA_FUNCTION_NAME="programme-engine",
        FORMS_WEBHOOK_SECRET="whsec_dGVzdC1mb3Jtcy13ZWJob29rLXNlY3JldC0zMmI=",
    )
    from programme.stack.lifecycle import use_utc
    from programme.stack.moto_dynamodb import HANDLERS, one_at_a_time
    from programme.template import load_template

    use_utc()
    template = load_template()
    functions, memory_gb = functions_of(template)
    for handler_class in HANDLERS:  # moto's DynamoDB one request at a time, as the tests do
        handler_class.call_action = one_at_a_time(handler_class.call_action)  # type: ignore[method-assign]
    measured = run_round(template, functions, counting, args.agencies)
    sys.stdout = sys.__stdout__
    if measured.failures:
        out.print(f"[red]stream records given up on: {measured.failures}[/red]")

    priced = Costing(measured, functions, memory_gb, args)
    print_per_function(out, priced)
    print_transitions(out, measured, priced)
    print_loop_cost(out, priced, print_bill(out, priced))
    print_fixed(out, measured, priced)
    print_sources(out, priced, args.cold_after_minutes)
    out.print(f"wall time {time.perf_counter() - began:.1f} s")
    return 0


def recorder_calls(invocations: list[Invocation], service: str) -> int:
    return sum(n for i in invocations for name, n in i.calls.items() if name.startswith(service))


if __name__ == "__main__":
    sys.exit(main())
