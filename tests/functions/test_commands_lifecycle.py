"""Staff commands through their routes: a round from scheduling to closing, as staff drive it
(the scheduled transitions fire through the command handler, on a clock the test moves)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from domain.streams import round_stream_id
from events import (
    AgencyAdmitted,
    AgencyWaitlisted,
    PairDissolved,
    PairFormed,
    PlanRevised,
    PlanSubmitted,
    PresentationRecorded,
    RoundCancelled,
    RoundRescheduled,
    RoundScheduled,
)
from functions.commands.actors import UNKNOWN_ACTOR, pseudonym
from functions.common import bootstrap
from tests.domain.given import (
    ATTRAKTIV,
    DIGITALISERING,
    KRIMINALVARDEN,
    KUSTBEVAKNINGEN,
    SHA_A,
    SHA_B,
    SKATTEVERKET,
    THEMES,
    UHR,
)
from tests.functions.http import STAFF_ARN, deliver_typeform, staff, typeform_payload
from tests.functions.rounds import ROUND_ID, Rounds
from tests.support.stack import WEBHOOK_SECRETS


def round_body(rounds: Rounds, **changes: Any) -> dict[str, Any]:
    return {
        "round_id": ROUND_ID,
        "number": 1,
        "title": "Omgång 2026",
        "capacity": 12,
        "themes": list(THEMES),
        **{name: when.isoformat() for name, when in rounds.dates.items()},
        **changes,
    }


def test_staff_run_a_round_from_scheduling_to_closing(rounds: Rounds) -> None:
    # GIVEN staff schedule a round, and move its plan deadline a week later
    created = staff("POST", "/rounds", round_body(rounds))
    assert (created.status, created.body) == (201, {"round_id": ROUND_ID, "version": 1})
    assert created.headers["Location"] == f"/rounds/{ROUND_ID}"
    later = rounds.dates["plan_due_at"] + timedelta(days=7)
    moved = staff("PATCH", f"/rounds/{ROUND_ID}/schedule", {"plan_due_at": later.isoformat()})
    assert (moved.status, moved.body["version"]) == (200, 2)
    rounds.dates["plan_due_at"] = later

    # AND three agencies apply through Typeform while applications are open
    rounds.open_applications()
    for n, org_number in enumerate((SKATTEVERKET, KRIMINALVARDEN, UHR)):
        payload = typeform_payload(f"tf-{n}", org_number=org_number, agency_name=f"Myndighet {n}")
        assert deliver_typeform(payload).body["status"] == "recorded"
    rounds.close_applications()

    # WHEN staff decide, pair, and — once the round runs — record the plan and presentation
    decisions = [
        {"org_number": SKATTEVERKET, "decision": "admit", "case_number": "2026/101"},
        {"org_number": KRIMINALVARDEN.replace("-", ""), "decision": "admit"},
        {"org_number": UHR, "decision": "waitlist", "case_number": "2026/103"},
    ]
    for decision in decisions:
        assert staff("POST", f"/rounds/{ROUND_ID}/decisions", decision).status == 200
    pair = staff(
        "POST",
        f"/rounds/{ROUND_ID}/pairs",
        {"org_numbers": [SKATTEVERKET, KRIMINALVARDEN], "theme": "Digitalisering"},
    )
    rounds.start()
    plan = {
        "pair_id": pair.body["pair_id"],
        "title": "En myndighet, en vi-känsla",
        "document_url": "https://example.org/plans/1.pdf",
        "document_sha256": SHA_A,
    }
    submitted = staff("POST", f"/rounds/{ROUND_ID}/plans", plan)
    revised = staff("POST", f"/rounds/{ROUND_ID}/plans", {**plan, "document_sha256": SHA_B})
    held_at = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    presented = staff(
        "POST",
        f"/rounds/{ROUND_ID}/presentations",
        {"pair_id": pair.body["pair_id"], "held_at": held_at.isoformat()},
    )
    rounds.finish()

    # THEN each route answered, and the round's stream tells the whole story in order
    assert (pair.status, pair.body["pair_id"]) == (201, "pair-1")
    assert pair.headers["Location"] == f"/rounds/{ROUND_ID}/pairs/pair-1"
    assert [submitted.status, revised.status, presented.status] == [200, 200, 200]
    assert revised.body["version"] == submitted.body["version"] + 1
    events = rounds.events()
    assert [e.type for e in events] == [
        "RoundScheduled",
        "RoundRescheduled",
        "ApplicationsOpened",
        "AgencyApplied",
        "AgencyApplied",
        "AgencyApplied",
        "ApplicationsClosed",
        "AgencyAdmitted",
        "AgencyAdmitted",
        "AgencyWaitlisted",
        "PairFormed",
        "RoundStarted",
        "PlanSubmitted",
        "PlanRevised",
        "PresentationRecorded",
        "PlanReminderIssued",
        "PlanDeadlinePassed",
        "RoundClosed",
    ]
    scheduled, rescheduled = events[0], events[1]
    assert isinstance(scheduled, RoundScheduled)
    assert isinstance(rescheduled, RoundRescheduled)
    assert rescheduled.plan_due_at == later
    admitted, waitlisted = events[7], events[9]
    assert isinstance(admitted, AgencyAdmitted)
    assert (admitted.org_number, admitted.case_number) == (SKATTEVERKET, "2026/101")
    assert isinstance(waitlisted, AgencyWaitlisted)
    formed = events[10]
    assert isinstance(formed, PairFormed)
    assert (formed.org_numbers, formed.theme) == ((SKATTEVERKET, KRIMINALVARDEN), DIGITALISERING)
    plan_submitted, plan_revised, presentation = events[12], events[13], events[14]
    assert isinstance(plan_submitted, PlanSubmitted)
    assert not plan_submitted.late
    assert isinstance(plan_revised, PlanRevised)
    assert plan_revised.document_sha256 == SHA_B
    assert isinstance(presentation, PresentationRecorded)
    assert presentation.held_at == held_at


def test_staff_commands_name_their_iam_principal_by_a_keyed_pseudonym(rounds: Rounds) -> None:
    # WHEN staff schedule a round as an IAM user, and cancel it without a principal
    staff("POST", "/rounds", round_body(rounds))
    staff("POST", f"/rounds/{ROUND_ID}/cancel", {"reason": "För få sökande"}, principal=None)

    # THEN each event's envelope names who did it, by the principal's pseudonym under the
    # deployment's key — the ARN (here a user named after its person) is not in it
    recorded = list(bootstrap.event_store().read(round_stream_id(ROUND_ID)))
    actors = [r.metadata.actor for r in recorded]
    assert actors == [pseudonym(STAFF_ARN, WEBHOOK_SECRETS["ACTOR_PSEUDONYM_KEY"]), UNKNOWN_ACTOR]
    assert actors[0] != pseudonym(STAFF_ARN, "another deployment's key")
    assert "handlaggare" not in actors[0]
    assert recorded[0].metadata.correlation_id == "test-request"


def test_cancelling_twice_changes_nothing_the_second_time(rounds: Rounds) -> None:
    # GIVEN a cancelled round
    staff("POST", "/rounds", round_body(rounds))
    first = staff("POST", f"/rounds/{ROUND_ID}/cancel", {"reason": "Budgeten drogs in"})

    # WHEN staff cancel it again
    second = staff("POST", f"/rounds/{ROUND_ID}/cancel", {"reason": "Budgeten drogs in"})

    # THEN the answer is the same version, and one cancellation is recorded
    assert (first.status, second.status) == (200, 200)
    assert second.body == first.body == {"round_id": ROUND_ID, "version": 2}
    assert [type(e) for e in rounds.events()] == [RoundScheduled, RoundCancelled]


def test_a_pair_without_a_plan_can_be_dissolved(rounds: Rounds) -> None:
    # GIVEN two admitted agencies paired during selection
    rounds.open()
    rounds.apply(SKATTEVERKET, KUSTBEVAKNINGEN)
    rounds.close_applications()
    rounds.admit(SKATTEVERKET, KUSTBEVAKNINGEN)
    pair = staff(
        "POST",
        f"/rounds/{ROUND_ID}/pairs",
        {"org_numbers": [SKATTEVERKET, KUSTBEVAKNINGEN], "theme": ATTRAKTIV},
    )

    # WHEN staff dissolve it, giving the reason in the query
    path = f"/rounds/{ROUND_ID}/pairs/{pair.body['pair_id']}"
    reply = staff("DELETE", path, query={"reason": "Kustbevakningen byter tema"})

    # THEN the pair is dissolved with that reason
    assert reply.status == 200
    dissolved = rounds.events()[-1]
    assert isinstance(dissolved, PairDissolved)
    assert (dissolved.pair_id, dissolved.reason) == ("pair-1", "Kustbevakningen byter tema")
