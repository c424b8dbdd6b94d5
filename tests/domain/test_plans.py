"""Plans (submitted, revised, flagged late) and presentations."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain import (
    PairDissolvedError,
    PairNotFoundError,
    PlanNotSubmittedError,
    PresentationInFutureError,
    RecordPresentation,
    RoundClosedError,
    RoundNotRunningError,
    SubmitPlan,
    decide,
)
from events import PairDissolved, PlanRevised, PlanSubmitted, PresentationRecorded
from tests.domain.given import (
    AFTER_CLOSING,
    AFTER_PLAN_DUE,
    DURING_ROUND,
    DURING_SELECTION,
    PLAN_DUE,
    PLAN_URL,
    ROUND_ID,
    SHA_A,
    SHA_B,
    SHA_C,
    deadline_passed,
    given,
    plan_submitted,
    round_3_closed,
    round_3_paired,
    round_3_running,
)

TITLE = "Strategisk utvecklingsplan"
HELD_AT = PLAN_DUE + timedelta(days=20)
PRESENTED = PresentationRecorded(pair_id="pair-1", held_at=HELD_AT)


def submit(pair_id: str = "pair-1", sha256: str = SHA_A) -> SubmitPlan:
    return SubmitPlan(ROUND_ID, pair_id, TITLE, PLAN_URL, sha256)


def test_a_pair_submits_its_plan() -> None:
    # GIVEN round 3 running
    state = given(*round_3_running())
    # WHEN pair-1 submits its plan before the deadline
    events = decide(submit(), state, DURING_ROUND)
    # THEN it is recorded, on time, stamped with the time it came in
    assert events == [
        PlanSubmitted(
            pair_id="pair-1",
            title=TITLE,
            document_url=PLAN_URL,
            document_sha256=SHA_A,
            submitted_at=DURING_ROUND,
            late=False,
        )
    ]


def test_a_plan_after_the_deadline_is_accepted_but_flagged_late() -> None:
    # GIVEN the deadline has passed
    state = given(*round_3_running(), deadline_passed("pair-1", "pair-2", "pair-3"))
    # WHEN pair-2 submits
    [event] = decide(submit("pair-2"), state, AFTER_PLAN_DUE)
    # THEN it is recorded as late
    assert isinstance(event, PlanSubmitted)
    assert event.late is True


def test_a_plan_at_the_exact_deadline_is_on_time() -> None:
    # GIVEN round 3 running
    state = given(*round_3_running())
    # WHEN a plan comes in at the deadline instant
    [event] = decide(submit(), state, PLAN_DUE)
    # THEN it is on time (late means after the deadline)
    assert isinstance(event, PlanSubmitted)
    assert event.late is False


def test_another_document_is_the_next_revision() -> None:
    # GIVEN pair-1's plan submitted
    stream = (*round_3_running(), plan_submitted("pair-1", SHA_A))
    # WHEN a different document comes, then another
    second = decide(submit(sha256=SHA_B), given(*stream), DURING_ROUND)
    third = decide(submit(sha256=SHA_C), given(*stream, *second), PLAN_DUE)
    # THEN they are revisions 2 and 3
    revisions = [e.revision for e in second + third if isinstance(e, PlanRevised)]
    assert revisions == [2, 3]
    assert len(second + third) == 2


def test_the_same_document_again_records_nothing() -> None:
    # GIVEN pair-1's plan submitted
    state = given(*round_3_running(), plan_submitted("pair-1", SHA_A))
    # WHEN the same document is sent again (its hash in capitals, as some tools write it)
    # THEN nothing new happens
    assert decide(submit(sha256=SHA_A.upper()), state, DURING_ROUND) == []


def test_a_late_revision_does_not_make_an_on_time_plan_late() -> None:
    # GIVEN an on-time plan, then the deadline
    state = given(*round_3_running(), plan_submitted("pair-1"), deadline_passed("pair-2", "pair-3"))
    # WHEN pair-1 revises after the deadline
    events = decide(submit(sha256=SHA_B), state, AFTER_PLAN_DUE)
    # THEN the revision is flagged late, but the pair's plan still counts as on time
    assert isinstance(events[0], PlanRevised)
    assert events[0].late is True
    plan = given(*round_3_running(), plan_submitted("pair-1"), *events).pairs["pair-1"].plan
    assert plan is not None
    assert (plan.revision, plan.late) == (2, False)


def test_cannot_submit_a_plan_before_the_round_starts() -> None:
    # GIVEN round 3 paired, not yet started
    state = given(*round_3_paired())
    # WHEN / THEN a plan is refused
    with pytest.raises(RoundNotRunningError, match="selection"):
        decide(submit(), state, DURING_SELECTION)


def test_cannot_submit_a_plan_for_a_pair_that_does_not_exist() -> None:
    # GIVEN round 3 running
    state = given(*round_3_running())
    # WHEN / THEN a plan for pair-9 is refused
    with pytest.raises(PairNotFoundError):
        decide(submit("pair-9"), state, DURING_ROUND)


def test_cannot_submit_a_plan_for_a_dissolved_pair() -> None:
    # GIVEN pair-3 dissolved
    state = given(*round_3_running(), PairDissolved(pair_id="pair-3", reason="Omorganisation"))
    # WHEN / THEN its plan is refused
    with pytest.raises(PairDissolvedError):
        decide(submit("pair-3"), state, DURING_ROUND)


def test_cannot_submit_a_plan_once_the_round_is_closed() -> None:
    # GIVEN a closed round
    state = given(*round_3_closed())
    # WHEN / THEN a plan is refused
    with pytest.raises(RoundClosedError):
        decide(submit(), state, AFTER_CLOSING)


# Presentations


def test_a_presentation_is_recorded_for_a_pair_with_a_plan() -> None:
    # GIVEN pair-1's plan submitted
    state = given(*round_3_running(), plan_submitted("pair-1"))
    # WHEN staff record its presentation
    events = decide(RecordPresentation(ROUND_ID, "pair-1", HELD_AT), state, HELD_AT)
    # THEN it is recorded
    assert events == [PresentationRecorded(pair_id="pair-1", held_at=HELD_AT)]


def test_recording_the_same_presentation_again_records_nothing() -> None:
    # GIVEN pair-1's presentation recorded
    state = given(
        *round_3_running(),
        plan_submitted("pair-1"),
        PresentationRecorded(pair_id="pair-1", held_at=HELD_AT),
    )
    # WHEN it is recorded again
    # THEN nothing new happens
    assert decide(RecordPresentation(ROUND_ID, "pair-1", HELD_AT), state, AFTER_CLOSING) == []


def test_a_corrected_presentation_time_is_recorded() -> None:
    # GIVEN pair-1's presentation recorded at the wrong hour
    state = given(
        *round_3_running(),
        plan_submitted("pair-1"),
        PresentationRecorded(pair_id="pair-1", held_at=HELD_AT),
    )
    # WHEN staff record the right time
    corrected = HELD_AT + timedelta(hours=2)
    events = decide(RecordPresentation(ROUND_ID, "pair-1", corrected), state, AFTER_CLOSING)
    # THEN the correction is recorded
    assert events == [PresentationRecorded(pair_id="pair-1", held_at=corrected)]


def test_cannot_record_a_presentation_before_the_plan() -> None:
    # GIVEN pair-2 without a plan
    state = given(*round_3_running())
    # WHEN / THEN its presentation is refused
    with pytest.raises(PlanNotSubmittedError, match="pair-2"):
        decide(RecordPresentation(ROUND_ID, "pair-2", DURING_ROUND), state, DURING_ROUND)


def test_cannot_record_a_presentation_still_to_come() -> None:
    # GIVEN pair-1's plan submitted
    state = given(*round_3_running(), plan_submitted("pair-1"))
    # WHEN / THEN recording a presentation dated tomorrow is refused
    tomorrow = DURING_ROUND + timedelta(days=1)
    with pytest.raises(PresentationInFutureError):
        decide(RecordPresentation(ROUND_ID, "pair-1", tomorrow), state, DURING_ROUND)


def test_cannot_record_a_presentation_before_the_round_runs() -> None:
    # GIVEN round 3 still in selection
    state = given(*round_3_paired())
    # WHEN / THEN a presentation is refused
    with pytest.raises(RoundNotRunningError):
        decide(RecordPresentation(ROUND_ID, "pair-1", DURING_SELECTION), state, DURING_SELECTION)
