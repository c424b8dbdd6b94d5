"""Replaying a round's events into its state: facts are applied, never re-judged."""

from __future__ import annotations

import pytest

from domain import FormPair, RoundState, decide, evolve, fold
from events import (
    AgencyAdmitted,
    AgencyApplied,
    PairDissolved,
    PairFormed,
    ParticipantNominated,
    PersonalDataErased,
    PlanRevised,
    PresentationRecorded,
    event_from_json,
    event_to_json,
)
from tests.domain.given import (
    ATTRAKTIV,
    DURING_ROUND,
    DURING_SELECTION,
    EXEMPELVERKET,
    KRIMINALVARDEN,
    PLAN_DUE,
    PLAN_URL,
    ROUND_3,
    ROUND_CLOSES,
    SHA_B,
    SKATTEVERKET,
    applied,
    given,
    plan_submitted,
    round_3_closed,
    round_3_running,
    sealed,
    with_admitted,
)


def test_no_events_means_no_round() -> None:
    # GIVEN an empty stream
    # WHEN / THEN folding it gives no state
    assert fold([]) is None


def test_a_round_stream_begins_with_its_schedule() -> None:
    # GIVEN a stream that starts mid-round
    # WHEN / THEN evolving from nothing is refused as a corrupt stream
    with pytest.raises(ValueError, match="RoundScheduled"):
        evolve(None, AgencyAdmitted(org_number=SKATTEVERKET))


def test_round_3_of_2015_replays_to_the_state_it_ended_in() -> None:
    # GIVEN round 3's stream up to its close
    # WHEN it is folded
    state = given(*round_3_closed())
    # THEN the state shows the closed round, six admitted, three active pairs, deadline passed
    assert state.status == "closed"
    assert state.admitted() == tuple(sorted(ROUND_3))
    assert [p.pair_id for p in state.active_pairs()] == ["pair-1", "pair-2", "pair-3"]
    assert state.pairs["pair-1"].org_numbers == (SKATTEVERKET, KRIMINALVARDEN)
    assert state.deadline_passed
    assert state.next_pair_number == 4


def test_old_facts_replay_even_where_todays_rules_would_refuse_them() -> None:
    # GIVEN a stream from before tighter rules: capacity 2 but three admitted, one of them with
    # a check digit today's rule rejects, and a trio while the admitted count was even
    stream = (
        *with_admitted(SKATTEVERKET, KRIMINALVARDEN, "202100-5449", capacity=2),
        applied(EXEMPELVERKET),
        AgencyAdmitted(org_number=EXEMPELVERKET),
        PairFormed(
            pair_id="pair-1",
            org_numbers=(SKATTEVERKET, KRIMINALVARDEN, "202100-5449"),
            theme="ett tema som inte längre finns",
        ),
    )
    # WHEN it is folded
    state = given(*stream)
    # THEN every fact stands as recorded
    assert len(state.admitted()) == 4
    assert state.pairs["pair-1"].is_trio
    assert state.pairs["pair-1"].theme == "ett tema som inte längre finns"


def test_a_decision_on_an_application_never_seen_still_stands() -> None:
    # GIVEN an old stream that admits an agency whose application predates the store
    state = given(*with_admitted(), AgencyAdmitted(org_number=SKATTEVERKET))
    # WHEN / THEN the agency counts as admitted
    assert state.admitted() == (SKATTEVERKET,)


def test_facts_about_unknown_pairs_change_nothing() -> None:
    # GIVEN round 3 running
    before = given(*round_3_running())
    # WHEN events name a pair the stream never formed
    after = fold(
        [
            *round_3_running(),
            PairDissolved(pair_id="pair-9", reason="Okänd"),
            PresentationRecorded(pair_id="pair-9", held_at=DURING_ROUND),
        ]
    )
    # THEN the state is as before
    assert after == before


def test_a_revision_of_a_plan_never_seen_becomes_the_plan() -> None:
    # GIVEN a stream whose first submission was lost to an old migration
    revised = PlanRevised(
        pair_id="pair-1",
        revision=2,
        title="Plan",
        document_url=PLAN_URL,
        document_sha256=SHA_B,
        submitted_at=DURING_ROUND,
        late=False,
    )
    # WHEN it is folded
    plan = given(*round_3_running(), revised).pairs["pair-1"].plan
    # THEN pair-1 has revision 2 as its plan
    assert plan is not None
    assert (plan.revision, plan.sha256) == (2, SHA_B)


def test_pair_numbers_continue_past_imported_pair_ids() -> None:
    # GIVEN a stream with a pair numbered 7 (imported from the old register)
    state = given(
        *with_admitted(*ROUND_3),
        PairFormed(pair_id="pair-7", org_numbers=ROUND_3[:2], theme=ATTRAKTIV),
    )
    # WHEN the next pair is formed
    [event] = decide(FormPair(state.round_id, ROUND_3[2:4], ATTRAKTIV), state, DURING_SELECTION)
    # THEN it is pair-8, never a number already used
    assert isinstance(event, PairFormed)
    assert event.pair_id == "pair-8"


def test_an_erasure_does_not_change_the_round() -> None:
    # GIVEN a nominated participant
    nominated = ParticipantNominated(
        org_number=SKATTEVERKET, role="director_general", person=sealed(7)
    )
    state = given(*round_3_running(), nominated)
    # WHEN the person's data is erased (an event of their subject stream)
    after = evolve(
        state,
        PersonalDataErased(subject_id=sealed(7).subject_id, retention_decision="GDPR art. 17"),
    )
    # THEN the round's state, which holds only the subject reference, is unchanged
    assert after == state
    assert after.nominees(SKATTEVERKET)[0].subject_id == sealed(7).subject_id


def test_a_stored_round_replays_the_same_after_a_json_round_trip() -> None:
    # GIVEN round 3's stream, and a v1 AgencyApplied as an old store holds it
    stream = [*round_3_running(), plan_submitted("pair-1")]
    v1 = event_to_json(applied(EXEMPELVERKET)) | {"schema_version": 1, "theme": ATTRAKTIV}
    del v1["themes"]
    # WHEN everything is read back through the catalogue
    read = [event_from_json(event_to_json(e)) for e in stream] + [event_from_json(v1)]
    # THEN the replayed state matches, with the upcast application in place
    state = fold(read)
    assert isinstance(state, RoundState)
    assert state == given(
        *stream, applied(EXEMPELVERKET).model_copy(update={"themes": (ATTRAKTIV,)})
    )
    assert isinstance(read[-1], AgencyApplied)
    assert state.dates.closes_at == ROUND_CLOSES
    assert state.dates.plan_due_at == PLAN_DUE
