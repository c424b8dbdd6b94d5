"""Selection: admitting, rejecting and waitlisting applicants; nominating their participants."""

from __future__ import annotations

import pytest

from domain import (
    AgencyInActivePairError,
    AgencyNotAdmittedError,
    ApplicationNotFoundError,
    ApplicationWithdrawnError,
    CapacityExceededError,
    DecideApplication,
    DirectorGeneralAlreadyNominatedError,
    NominateParticipant,
    RoundCancelledError,
    SelectionNotStartedError,
    TrioNeedsOddCountError,
    decide,
)
from domain.commands import Decision
from events import (
    AgencyAdmitted,
    AgencyRejected,
    AgencyWaitlisted,
    ApplicationWithdrawn,
    ParticipantNominated,
    RoundCancelled,
)
from tests.domain.given import (
    DURING_APPLICATIONS,
    DURING_ROUND,
    DURING_SELECTION,
    EXEMPELVERKET,
    KRIMINALVARDEN,
    KUSTBEVAKNINGEN,
    LANSSTYRELSEN_STOCKHOLM,
    ROUND_3,
    ROUND_ID,
    SKATTEVERKET,
    UHR,
    applied,
    given,
    in_selection,
    open_round,
    pair_formed,
    round_3_paired,
    round_3_running,
    sealed,
    with_admitted,
)


def decision(
    org_number: str, outcome: Decision, case_number: str | None = None
) -> DecideApplication:
    return DecideApplication(ROUND_ID, org_number, outcome, case_number)


@pytest.mark.parametrize(
    ("outcome", "event"),
    [
        ("admit", AgencyAdmitted(org_number=SKATTEVERKET, case_number="2015/123")),
        ("reject", AgencyRejected(org_number=SKATTEVERKET, case_number="2015/123")),
        ("waitlist", AgencyWaitlisted(org_number=SKATTEVERKET, case_number="2015/123")),
    ],
)
def test_staff_decide_on_an_applicant_with_a_case_number(outcome: Decision, event: object) -> None:
    # GIVEN Skatteverket's application in selection
    state = given(*in_selection(SKATTEVERKET))
    # WHEN staff decide, citing the diarienummer
    events = decide(decision("2021005448", outcome, "2015/123"), state, DURING_SELECTION)
    # THEN the decision is recorded against the stored number
    assert events == [event]


def test_deciding_the_same_thing_twice_records_nothing() -> None:
    # GIVEN Skatteverket admitted
    state = given(*with_admitted(SKATTEVERKET))
    # WHEN staff admit it again
    # THEN nothing new happens
    assert decide(decision(SKATTEVERKET, "admit"), state, DURING_SELECTION) == []


def test_a_waitlisted_agency_can_be_admitted_when_a_place_frees_up() -> None:
    # GIVEN a full round with Exempelverket waitlisted, then Skatteverket withdraws
    state = given(
        *with_admitted(*ROUND_3),
        applied(EXEMPELVERKET),
        AgencyWaitlisted(org_number=EXEMPELVERKET),
        ApplicationWithdrawn(org_number=SKATTEVERKET),
    )
    # WHEN staff admit Exempelverket
    events = decide(decision(EXEMPELVERKET, "admit"), state, DURING_SELECTION)
    # THEN the decision changes
    assert events == [AgencyAdmitted(org_number=EXEMPELVERKET)]


def test_decisions_may_still_be_made_while_the_round_runs() -> None:
    # GIVEN round 3 running with a late applicant on the waitlist
    state = given(*round_3_running(), applied(EXEMPELVERKET))
    # WHEN staff reject it
    events = decide(decision(EXEMPELVERKET, "reject"), state, DURING_ROUND)
    # THEN the rejection is recorded
    assert events == [AgencyRejected(org_number=EXEMPELVERKET)]


def test_cannot_decide_before_applications_close() -> None:
    # GIVEN applications still open
    state = given(*open_round(), applied(SKATTEVERKET))
    # WHEN / THEN a decision is refused: selection has not begun
    with pytest.raises(SelectionNotStartedError, match="open"):
        decide(decision(SKATTEVERKET, "admit"), state, DURING_APPLICATIONS)


def test_cannot_decide_on_an_agency_that_never_applied() -> None:
    # GIVEN selection under way without Kustbevakningen
    state = given(*in_selection(SKATTEVERKET))
    # WHEN / THEN admitting it is refused
    with pytest.raises(ApplicationNotFoundError, match=KUSTBEVAKNINGEN):
        decide(decision(KUSTBEVAKNINGEN, "admit"), state, DURING_SELECTION)


def test_cannot_decide_on_a_withdrawn_application() -> None:
    # GIVEN Skatteverket withdrew
    state = given(*in_selection(SKATTEVERKET), ApplicationWithdrawn(org_number=SKATTEVERKET))
    # WHEN / THEN admitting it is refused
    with pytest.raises(ApplicationWithdrawnError):
        decide(decision(SKATTEVERKET, "admit"), state, DURING_SELECTION)


def test_cannot_admit_beyond_the_round_capacity() -> None:
    # GIVEN round 3 (capacity 6) with six admitted and a seventh applicant
    state = given(*with_admitted(*ROUND_3), applied(EXEMPELVERKET))
    # WHEN / THEN admitting the seventh is refused
    with pytest.raises(CapacityExceededError, match="capacity of 6"):
        decide(decision(EXEMPELVERKET, "admit"), state, DURING_SELECTION)


@pytest.mark.parametrize("outcome", ["reject", "waitlist"])
def test_cannot_reject_or_waitlist_an_admitted_agency_in_an_active_pair(outcome: Decision) -> None:
    # GIVEN round 3 paired
    state = given(*round_3_paired())
    # WHEN / THEN taking Skatteverket out of pair-1 by a decision is refused
    with pytest.raises(AgencyInActivePairError, match="dissolve the pair first"):
        decide(decision(SKATTEVERKET, outcome), state, DURING_SELECTION)


def test_admissions_wait_while_a_trio_depends_on_the_odd_count() -> None:
    # GIVEN five admitted, three of them in a trio, and one more applicant
    state = given(
        *with_admitted(SKATTEVERKET, KRIMINALVARDEN, UHR, KUSTBEVAKNINGEN, LANSSTYRELSEN_STOCKHOLM),
        pair_formed(1, SKATTEVERKET, KRIMINALVARDEN, UHR),
        applied(EXEMPELVERKET),
    )
    # WHEN / THEN admitting a sixth (or rejecting an unpaired one) waits for the trio to go
    with pytest.raises(TrioNeedsOddCountError):
        decide(decision(EXEMPELVERKET, "admit"), state, DURING_SELECTION)
    with pytest.raises(TrioNeedsOddCountError):
        decide(decision(KUSTBEVAKNINGEN, "reject"), state, DURING_SELECTION)


def test_cannot_decide_in_a_cancelled_round() -> None:
    # GIVEN a cancelled round in selection
    state = given(*in_selection(SKATTEVERKET), RoundCancelled(reason="Inställd"))
    # WHEN / THEN a decision is refused
    with pytest.raises(RoundCancelledError):
        decide(decision(SKATTEVERKET, "admit"), state, DURING_SELECTION)


# Participants


def test_staff_nominate_the_director_general_of_an_admitted_agency() -> None:
    # GIVEN Skatteverket admitted
    state = given(*with_admitted(SKATTEVERKET))
    # WHEN its GD is nominated
    command = NominateParticipant(ROUND_ID, SKATTEVERKET, "director_general", sealed(10))
    events = decide(command, state, DURING_SELECTION)
    # THEN the nomination is recorded with the sealed personal data only
    assert events == [
        ParticipantNominated(org_number=SKATTEVERKET, role="director_general", person=sealed(10))
    ]


def test_an_agency_may_send_several_leadership_members() -> None:
    # GIVEN Skatteverket with one leadership member nominated
    first = ParticipantNominated(
        org_number=SKATTEVERKET, role="leadership_member", person=sealed(11)
    )
    state = given(*with_admitted(SKATTEVERKET), first)
    # WHEN a second member is nominated
    command = NominateParticipant(ROUND_ID, SKATTEVERKET, "leadership_member", sealed(12))
    events = decide(command, state, DURING_SELECTION)
    # THEN it is recorded, and the state counts both
    assert [type(e) for e in events] == [ParticipantNominated]
    assert len(given(*with_admitted(SKATTEVERKET), first, *events).nominees(SKATTEVERKET)) == 2


def test_nominating_the_same_person_twice_records_nothing() -> None:
    # GIVEN Skatteverket's GD nominated
    nominated = ParticipantNominated(
        org_number=SKATTEVERKET, role="director_general", person=sealed(10)
    )
    state = given(*with_admitted(SKATTEVERKET), nominated)
    # WHEN the same nomination comes again
    command = NominateParticipant(ROUND_ID, SKATTEVERKET, "director_general", sealed(10))
    # THEN nothing new happens
    assert decide(command, state, DURING_SELECTION) == []


def test_an_agency_has_at_most_one_director_general() -> None:
    # GIVEN Skatteverket's GD nominated
    nominated = ParticipantNominated(
        org_number=SKATTEVERKET, role="director_general", person=sealed(10)
    )
    state = given(*with_admitted(SKATTEVERKET), nominated)
    # WHEN / THEN another person as GD is refused
    command = NominateParticipant(ROUND_ID, SKATTEVERKET, "director_general", sealed(13))
    with pytest.raises(DirectorGeneralAlreadyNominatedError):
        decide(command, state, DURING_SELECTION)


@pytest.mark.parametrize("stream", [(), (AgencyWaitlisted(org_number=SKATTEVERKET),)])
def test_cannot_nominate_for_an_agency_not_admitted(stream: tuple[AgencyWaitlisted, ...]) -> None:
    # GIVEN Skatteverket applied but not admitted (undecided or waitlisted)
    state = given(*in_selection(SKATTEVERKET), *stream)
    # WHEN / THEN nominating its GD is refused
    command = NominateParticipant(ROUND_ID, SKATTEVERKET, "director_general", sealed(10))
    with pytest.raises(AgencyNotAdmittedError):
        decide(command, state, DURING_SELECTION)
