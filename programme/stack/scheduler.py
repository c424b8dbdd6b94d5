"""The template's EventBridge Scheduler jobs, fired by the local stack in program time.

moto's Scheduler stores schedules but never fires them, so the stack does: each `ScheduleV2`
event of a function in `template.yaml` (daily `cron(M H * * ? *)` in its time zone) fires once
when the stack starts, then at each due time the stack's clock reaches. A clock that jumps
several days fires a job once, as Scheduler would after an outage, not once per day missed.
A run that raises is retried as the function's `EventInvokeConfig` says, then handed to its
on-failure destination.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from infra.clock import Clock
from programme.stack.apigw import LambdaContext
from programme.stack.routes import LambdaHandler
from programme.template import Template

log = logging.getLogger("programme.scheduler")

_DAILY: Final = re.compile(r"cron\((?P<minute>\d{1,2}) (?P<hour>\d{1,2}) \* \* \? \*\)")


@dataclass(frozen=True, slots=True)
class DailyJob:
    function: str  # logical id
    minute: int
    hour: int
    zone: str
    input: str = "{}"
    retries: int = 2  # Lambda's default for asynchronous invocations
    on_failure: str | None = None  # logical id of the destination queue

    def next_after(self, instant: datetime) -> datetime:
        """The first due time strictly after `instant` (UTC)."""
        zone = ZoneInfo(self.zone)
        local = instant.astimezone(zone)
        for days in range(3):  # today, or tomorrow (a DST change moves the wall time)
            day = (local + timedelta(days=days)).date()
            due = datetime(day.year, day.month, day.day, self.hour, self.minute, tzinfo=zone)
            if due.astimezone(UTC) > instant:
                return due.astimezone(UTC)
        raise AssertionError("unreachable: a daily job is due within two days")


def scheduled_jobs(template: Template) -> list[DailyJob]:
    """Every `ScheduleV2` event in the template; only daily cron expressions are understood."""
    jobs: list[DailyJob] = []
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        properties = resource.get("Properties", {})
        invoke = properties.get("EventInvokeConfig", {})
        destination = invoke.get("DestinationConfig", {}).get("OnFailure", {})
        target = destination.get("Destination", {}).get("Fn::GetAtt", [None])[0]
        for event in properties.get("Events", {}).values():
            if event.get("Type") != "ScheduleV2":
                continue
            spec = event["Properties"]
            found = _DAILY.fullmatch(spec["ScheduleExpression"])
            if found is None:
                raise ValueError(
                    f"{logical_id}: the local stack fires daily cron(M H * * ? *) schedules only,"
                    f" not {spec['ScheduleExpression']}"
                )
            jobs.append(
                DailyJob(
                    function=logical_id,
                    minute=int(found["minute"]),
                    hour=int(found["hour"]),
                    zone=spec.get("ScheduleExpressionTimezone", "UTC"),
                    input=spec.get("Input", "{}"),
                    retries=int(invoke.get("MaximumRetryAttempts", 2)),
                    on_failure=target,
                )
            )
    return jobs


OnFailure = Callable[[DailyJob, BaseException], None]


class SchedulerThread(threading.Thread):
    """Fires each job at start, then whenever the clock reaches its next due time."""

    def __init__(
        self,
        jobs: Sequence[DailyJob],
        functions: Mapping[str, LambdaHandler],
        clock: Clock,
        on_failure: OnFailure,
        *,
        poll: float = 0.5,
    ) -> None:
        super().__init__(name="scheduler", daemon=True)
        self._jobs = list(jobs)
        self._functions = functions
        self._clock = clock
        self._on_failure = on_failure
        self._poll = poll
        self._due: dict[DailyJob, datetime] = {}
        self._stopped = threading.Event()
        self.fired: list[tuple[str, datetime]] = []  # what ran, at which program time

    def run(self) -> None:
        while True:
            self.fire_due()
            if self._stopped.wait(self._poll):
                return

    def stop(self) -> None:
        self._stopped.set()
        if self.is_alive():
            self.join(timeout=30)

    def fire_due(self) -> None:
        """Fire every job not fired yet, or due by the clock's time; note when each is next due."""
        for job in self._jobs:
            if job not in self._due or self._clock() >= self._due[job]:
                self._due[job] = self._fire(job)

    def _fire(self, job: DailyJob) -> datetime:
        """Run the job's function (with its retries); returns when it is due next."""
        now = self._clock()
        self.fired.append((job.function, now))
        event: Any = json.loads(job.input)
        for attempt in range(job.retries + 1):
            try:
                result = self._functions[job.function](
                    event, LambdaContext(function_name=job.function)
                )
            except Exception as error:
                log.exception("%s failed (attempt %d)", job.function, attempt + 1)
                if attempt == job.retries:
                    self._on_failure(job, error)
            else:
                log.info("%s ran at %s: %s", job.function, now.isoformat(), result)
                break
        return job.next_after(now)
