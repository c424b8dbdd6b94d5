"""The peer model of bench/peers.py: the round's rules re-implemented on `eventsourcing`.

`Round(Aggregate)` records the engine's events for the peers workload, with the same fields,
behind the same rule checks (bench/peers.py lists them); `Rounds` gets, changes and saves a
round (no aggregate cache, the library's default); `SnapshottingRounds` snapshots each event.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

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
        live = sum(s in ("applied", "admitted", "waitlisted") for s in self.applications.values())
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

    def change(self, round_id: str, rule: Callable[..., None], *args: Any, **fields: Any) -> None:
        """One command: get the round, apply `rule` (a `Round` method) to it, save its event."""
        aggregate: Round = self.repository.get(self.ids[round_id])
        before = aggregate.version
        rule(aggregate, *args, **fields)
        if aggregate.version == before:
            raise SystemExit(f"nothing recorded on {round_id}")
        self.save(aggregate)

    def schedule(self, *fields: Any) -> None:
        """A new round: the fields of `Round.__init__` (RoundScheduled), in its order."""
        aggregate = Round(*fields)
        self.ids[aggregate.round_id] = aggregate.id
        self.save(aggregate)


class SnapshottingRounds(Rounds):
    """Snapshots the round after every event (each of these commands records one), as
    the engine's handler does with every append; the library takes it after the save,
    by getting the aggregate at that version, in a transaction of its own."""

    snapshotting_intervals = {Round: 1}  # noqa: RUF012 (the library's class attribute)
