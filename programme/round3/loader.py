"""Round 3 of 2015 loaded into a running local stack through its HTTP API, as its users would.

The six agencies and the organiser apply through Typeform-signed webhooks; staff schedule the
round, decide, pair and record the presentations over HTTP; the pairs' plans come in as
Standard-Webhooks-signed `plan.submitted` deliveries. The lifecycle is walked by the real
state machine, whose execution the starter began from the event stream: for each transition
the loader moves the stack's clock to the due time, then polls the round's read models over
HTTP until the transition shows (`GET /rounds/2015-3/events` and `GET /rounds/2015-3`).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Final

from domain import PLAN_REMINDER_LEAD
from programme.client import ApiClient, UnexpectedReplyError, expect
from programme.round3 import data as r3
from programme.stack.clock import LocalClock

ROUND: Final = f"/rounds/{r3.ROUND_ID}"
STAFF_TIMEOUT_SECONDS: Final = 30.0


class StateMachineTimeoutError(RuntimeError):
    """A transition did not show in the read models in time; the message says which."""


class Round3Loader:
    """Walks round 3 of 2015 through the API of a stack whose clock it moves."""

    def __init__(
        self,
        api: ApiClient,
        clock: LocalClock,
        *,
        on_step: Callable[[str], None] = lambda _: None,
        timeout: float = STAFF_TIMEOUT_SECONDS,
        poll: float = 0.1,
    ) -> None:
        self.api = api
        self.clock = clock
        self.on_step = on_step
        self.timeout = timeout
        self.poll = poll
        self.pairs: dict[str, str] = {}  # pair id by theme

    def steps(self) -> list[tuple[str, Callable[[], None]]]:
        """What the load does, in order, each with a line for a progress display."""
        reminder_at = r3.PLAN_DUE_AT - PLAN_REMINDER_LEAD
        return [
            ("Staff schedule round 3 (POST /rounds)", self._schedule),
            (
                f"State machine opens applications ({_day(r3.APPLICATION_OPENS_AT)})",
                lambda: self._transition(r3.APPLICATION_OPENS_AT, "ApplicationsOpened", "open"),
            ),
            ("Six agencies and the organiser apply (Typeform webhooks)", self._applications),
            (
                f"State machine closes applications ({_day(r3.APPLICATION_CLOSES_AT)})",
                lambda: self._transition(
                    r3.APPLICATION_CLOSES_AT, "ApplicationsClosed", "selection"
                ),
            ),
            ("Staff admit the six and form three pairs", self._decisions_and_pairs),
            (
                f"State machine starts the round ({_day(r3.STARTS_AT)})",
                lambda: self._transition(r3.STARTS_AT, "RoundStarted", "running"),
            ),
            (
                f"State machine reminds the pairs of their plans ({_day(reminder_at)})",
                lambda: self._transition(reminder_at, "PlanReminderIssued"),
            ),
            ("Three plans come in (Standard Webhooks)", self._plans),
            (
                f"State machine passes the plan deadline ({_day(r3.PLAN_DUE_AT)})",
                lambda: self._transition(r3.PLAN_DUE_AT, "PlanDeadlinePassed"),
            ),
            ("Staff record the three presentations", self._presentations),
            (
                f"State machine closes the round ({_day(r3.CLOSES_AT)})",
                lambda: self._transition(r3.CLOSES_AT, "RoundClosed", "closed"),
            ),
        ]

    def load(self) -> None:
        for description, step in self.steps():
            self.on_step(description)
            step()

    def _schedule(self) -> None:
        body = {
            "round_id": r3.ROUND_ID,
            "number": r3.NUMBER,
            "title": r3.TITLE,
            "capacity": r3.CAPACITY,
            "themes": list(r3.THEMES),
            "application_opens_at": r3.APPLICATION_OPENS_AT,
            "application_closes_at": r3.APPLICATION_CLOSES_AT,
            "starts_at": r3.STARTS_AT,
            "plan_due_at": r3.PLAN_DUE_AT,
            "closes_at": r3.CLOSES_AT,
        }
        expect(self.api.staff("POST", "/rounds", body), 201, "scheduling round 3")

    def _applications(self) -> None:
        for day, agency in enumerate((*r3.AGENCIES, r3.ORGANISER), start=3):
            at = r3.APPLICATION_OPENS_AT + timedelta(days=day)
            self.clock.advance_to(at)
            themes = [theme for members, theme in r3.PAIRS if agency.org_number in members]
            payload = typeform_application(
                f"tf-{r3.ROUND_ID}-{agency.org_number}",
                r3.ROUND_ID,
                agency,
                themes or [r3.THEMES[0]],
                at,
            )
            expected = "refused" if agency is r3.ORGANISER else "recorded"
            self._delivered(self.api.typeform(payload), expected, agency.name)

    def _decisions_and_pairs(self) -> None:
        self.clock.advance_to(r3.APPLICATION_CLOSES_AT + timedelta(days=7))
        for case, agency in enumerate(r3.AGENCIES, start=101):
            decision = {
                "org_number": agency.org_number,
                "decision": "admit",
                "case_number": f"ESV 2014/{case}",
            }
            reply = self.api.staff("POST", f"{ROUND}/decisions", decision)
            expect(reply, 200, f"admitting {agency.name}")
        for members, theme in r3.PAIRS:
            pair = {"org_numbers": list(members), "theme": theme}
            reply = expect(self.api.staff("POST", f"{ROUND}/pairs", pair), 201, f"pairing {theme}")
            self.pairs[theme] = reply.json()["pair_id"]

    def _plans(self) -> None:
        for offset, (theme, pair_id) in enumerate(self.pairs.items()):
            self.clock.advance(timedelta(days=1))
            title = r3.PLAN_TITLES[theme]
            plan = {
                "type": "plan.submitted",
                "round_id": r3.ROUND_ID,
                "pair_id": pair_id,
                "title": title,
                "document_url": f"https://programme.example.se/plans/2015-3/{pair_id}.pdf",
                "document_sha256": hashlib.sha256(f"{title}:{offset}".encode()).hexdigest(),
            }
            reply = self.api.forms(plan, webhook_id=f"msg_{r3.ROUND_ID}_plan_{pair_id}")
            self._delivered(reply, "recorded", f"the plan of {pair_id}")

    def _presentations(self) -> None:
        for offset, pair_id in enumerate(self.pairs.values()):
            held_at = r3.CLOSES_AT - timedelta(days=7, hours=-offset)
            self.clock.advance_to(held_at + timedelta(hours=2))
            body = {"pair_id": pair_id, "held_at": held_at}
            reply = self.api.staff("POST", f"{ROUND}/presentations", body)
            expect(reply, 200, f"the presentation of {pair_id}")

    def _transition(self, due_at: datetime, event_type: str, state: str | None = None) -> None:
        """Move the clock to `due_at`, then wait until the read models show the transition."""
        self.clock.advance_to(max(due_at, self.clock()))
        deadline = time.monotonic() + self.timeout
        seen: dict[str, Any] = {}
        while True:
            types = [entry["type"] for entry in self._found(f"{ROUND}/events").get("events", [])]
            seen = self._found(ROUND)
            if event_type in types and (state is None or seen.get("state") == state):
                return
            if time.monotonic() > deadline:
                raise StateMachineTimeoutError(
                    f"{event_type} did not show within {self.timeout:.0f} s of the clock "
                    f"reaching {due_at.isoformat()} (the round is {seen.get('state')!r})"
                )
            time.sleep(self.poll)

    def _found(self, path: str) -> dict[str, Any]:
        """The read model's document, or nothing while the projector has not written it yet."""
        reply = self.api.request("GET", path)
        if reply.status == 404:
            return {}
        found: dict[str, Any] = expect(reply, 200, f"GET {path}").json()
        return found

    @staticmethod
    def _delivered(reply: Any, status: str, what: str) -> None:
        expect(reply, 202, what)
        answer = reply.json()
        if answer["status"] != status:
            raise UnexpectedReplyError(f"{what}: {status} expected, got {answer}")


def _day(instant: datetime) -> str:
    return instant.strftime("%Y-%m-%d")


def typeform_application(
    delivery_id: str,
    round_id: str,
    agency: r3.Agency,
    themes: list[str],
    submitted_at: datetime,
) -> dict[str, Any]:
    """Typeform's delivery of the application form, answers found by their field `ref`."""

    def text(ref: str, value: str, kind: str = "short_text") -> dict[str, Any]:
        return {
            "type": "text",
            "text": value,
            "field": {"id": f"f-{ref}", "type": kind, "ref": ref},
        }

    stamp = submitted_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "event_id": delivery_id,
        "event_type": "form_response",
        "form_response": {
            "form_id": "omg3ansokan",
            "token": hashlib.sha256(delivery_id.encode()).hexdigest()[:32],
            "landed_at": stamp,
            "submitted_at": stamp,
            "hidden": {"round_id": round_id},
            "definition": {"id": "omg3ansokan", "title": "Ansökan", "fields": []},
            "answers": [
                text("org_number", agency.org_number),
                text("agency_name", agency.name),
                text("director_general", agency.director_general),
                text("contact_name", agency.contact_name),
                {
                    "type": "email",
                    "email": agency.contact_email,
                    "field": {"id": "f-email", "type": "email", "ref": "contact_email"},
                },
                {
                    "type": "choices",
                    "choices": {"labels": themes},
                    "field": {"id": "f-themes", "type": "multiple_choice", "ref": "themes"},
                },
            ],
        },
    }
