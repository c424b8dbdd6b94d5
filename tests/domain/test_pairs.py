"""Learning pairs: forming (2 agencies, or a trio when the count is odd) and dissolving."""

from __future__ import annotations

import pytest

from domain import (
    AgencyAlreadyPairedError,
    AgencyNotAdmittedError,
    DissolvePair,
    FormPair,
    InvalidOrgNumberError,
    PairDissolvedError,
    PairHasPlanError,
    PairMembersNotDistinctError,
    PairNotFoundError,
    PairSizeError,
    RoundClosedError,
    SelectionNotStartedError,
    TrioNotAllowedError,
    UnknownThemeError,
    decide,
)
from events import AgencyAdmitted, PairDissolved, PairFormed
from tests.domain.given import (
    ATTRAKTIV,
    DIGITALISERING,
    DURING_APPLICATIONS,
    DURING_ROUND,
    DURING_SELECTION,
    EXEMPELVERKET,
    FASTIGHETSMAKLARINSPEKTIONEN,
    KRIMINALVARDEN,
    KUSTBEVAKNINGEN,
    LANSSTYRELSEN_STOCKHOLM,
    ROUND_3,
    ROUND_ID,
    SKATTEVERKET,
    UHR,
    VI_KANSLA,
    applied,
    given,
    in_selection,
    open_round,
    pair_formed,
    plan_submitted,
    round_3_closed,
    round_3_paired,
    round_3_running,
    with_admitted,
)


def test_pairs_two_admitted_agencies_around_a_theme() -> None:
    # GIVEN round 3's six agencies admitted
    state = given(*with_admitted(*ROUND_3))
    # WHEN staff pair Skatteverket and Kriminalvården (numbers as typed, theme as typed)
    command = FormPair(ROUND_ID, ("2021005448", "202100-0225"), "Vi-känsla")
    events = decide(command, state, DURING_SELECTION)
    # THEN pair-1 is formed with stored numbers and the round's spelling of the theme
    assert events == [
        PairFormed(pair_id="pair-1", org_numbers=(SKATTEVERKET, KRIMINALVARDEN), theme=VI_KANSLA)
    ]


def test_pair_ids_count_up_and_are_never_reused() -> None:
    # GIVEN pair-1 formed and dissolved
    state = given(
        *with_admitted(*ROUND_3),
        pair_formed(1, SKATTEVERKET, KRIMINALVARDEN),
        PairDissolved(pair_id="pair-1", reason="Fel tema"),
    )
    # WHEN the same agencies are paired again
    [event] = decide(FormPair(ROUND_ID, (SKATTEVERKET, UHR), ATTRAKTIV), state, DURING_SELECTION)
    # THEN the new pair gets the next number
    assert isinstance(event, PairFormed)
    assert event.pair_id == "pair-2"


def test_pairs_may_still_be_formed_while_the_round_runs() -> None:
    # GIVEN round 3 running, pair-3 dissolved over its theme
    state = given(*round_3_running(), PairDissolved(pair_id="pair-3", reason="Byter tema"))
    # WHEN its agencies are paired again on another theme
    command = FormPair(ROUND_ID, (KUSTBEVAKNINGEN, LANSSTYRELSEN_STOCKHOLM), DIGITALISERING)
    events = decide(command, state, DURING_ROUND)
    # THEN the new pair is formed as pair-4
    assert events == [
        PairFormed(
            pair_id="pair-4",
            org_numbers=(KUSTBEVAKNINGEN, LANSSTYRELSEN_STOCKHOLM),
            theme=DIGITALISERING,
        )
    ]


def test_cannot_pair_before_applications_close() -> None:
    # GIVEN applications open
    state = given(*open_round(), applied(SKATTEVERKET), applied(KRIMINALVARDEN))
    # WHEN / THEN forming a pair is refused
    command = FormPair(ROUND_ID, (SKATTEVERKET, KRIMINALVARDEN), ATTRAKTIV)
    with pytest.raises(SelectionNotStartedError):
        decide(command, state, DURING_APPLICATIONS)


@pytest.mark.parametrize("size", [0, 1, 4])
def test_a_pair_has_two_or_three_agencies(size: int) -> None:
    # GIVEN round 3 admitted
    state = given(*with_admitted(*ROUND_3))
    # WHEN / THEN a "pair" of the wrong size is refused
    with pytest.raises(PairSizeError, match=f"not {size}"):
        decide(FormPair(ROUND_ID, ROUND_3[:size], ATTRAKTIV), state, DURING_SELECTION)


def test_cannot_pair_an_agency_with_itself() -> None:
    # GIVEN round 3 admitted
    state = given(*with_admitted(*ROUND_3))
    # WHEN Skatteverket is named twice, written two ways
    command = FormPair(ROUND_ID, (SKATTEVERKET, "2021005448"), ATTRAKTIV)
    # THEN it is refused
    with pytest.raises(PairMembersNotDistinctError):
        decide(command, state, DURING_SELECTION)


def test_cannot_pair_an_agency_that_is_not_admitted() -> None:
    # GIVEN Exempelverket applied but was not admitted
    admitted = AgencyAdmitted(org_number=SKATTEVERKET)
    state = given(*in_selection(SKATTEVERKET, EXEMPELVERKET), admitted)
    # WHEN / THEN pairing it is refused
    command = FormPair(ROUND_ID, (SKATTEVERKET, EXEMPELVERKET), ATTRAKTIV)
    with pytest.raises(AgencyNotAdmittedError, match=EXEMPELVERKET):
        decide(command, state, DURING_SELECTION)


def test_cannot_pair_with_an_invalid_org_number() -> None:
    # GIVEN round 3 admitted
    state = given(*with_admitted(*ROUND_3))
    # WHEN / THEN a mistyped number is refused
    command = FormPair(ROUND_ID, (SKATTEVERKET, "202100-0226"), ATTRAKTIV)
    with pytest.raises(InvalidOrgNumberError):
        decide(command, state, DURING_SELECTION)


def test_cannot_pair_an_agency_already_in_an_active_pair() -> None:
    # GIVEN round 3 paired
    state = given(*round_3_paired())
    # WHEN / THEN putting Skatteverket in a second pair is refused
    command = FormPair(ROUND_ID, (SKATTEVERKET, UHR), DIGITALISERING)
    with pytest.raises(AgencyAlreadyPairedError, match="pair-1"):
        decide(command, state, DURING_SELECTION)


def test_a_trio_is_formed_when_the_admitted_count_is_odd() -> None:
    # GIVEN five admitted agencies
    state = given(
        *with_admitted(SKATTEVERKET, KRIMINALVARDEN, UHR, KUSTBEVAKNINGEN, LANSSTYRELSEN_STOCKHOLM)
    )
    # WHEN three of them are grouped
    trio = (KUSTBEVAKNINGEN, LANSSTYRELSEN_STOCKHOLM, UHR)
    events = decide(FormPair(ROUND_ID, trio, ATTRAKTIV), state, DURING_SELECTION)
    # THEN the trio is formed
    assert events == [PairFormed(pair_id="pair-1", org_numbers=trio, theme=ATTRAKTIV)]


def test_no_trio_when_the_admitted_count_is_even() -> None:
    # GIVEN round 3's six admitted agencies
    state = given(*with_admitted(*ROUND_3))
    # WHEN / THEN a trio is refused: everyone can have a partner
    with pytest.raises(TrioNotAllowedError, match="it is 6"):
        decide(FormPair(ROUND_ID, ROUND_3[:3], ATTRAKTIV), state, DURING_SELECTION)


def test_no_second_trio() -> None:
    # GIVEN seven admitted (capacity 8) and one trio already
    state = given(
        *with_admitted(*ROUND_3, EXEMPELVERKET, capacity=8),
        pair_formed(1, *ROUND_3[:3]),
    )
    # WHEN / THEN a second trio is refused
    with pytest.raises(TrioNotAllowedError, match="already has a trio, pair-1"):
        decide(FormPair(ROUND_ID, ROUND_3[3:6], ATTRAKTIV), state, DURING_SELECTION)


def test_a_pair_works_on_one_of_the_round_themes() -> None:
    # GIVEN round 3's themes
    state = given(*with_admitted(*ROUND_3))
    # WHEN / THEN a pair on another theme is refused
    with pytest.raises(UnknownThemeError):
        decide(FormPair(ROUND_ID, ROUND_3[:2], "hållbarhet"), state, DURING_SELECTION)


def test_cannot_pair_in_a_closed_round() -> None:
    # GIVEN a closed round
    state = given(*round_3_closed())
    # WHEN / THEN forming a pair is refused
    with pytest.raises(RoundClosedError):
        decide(FormPair(ROUND_ID, ROUND_3[:2], ATTRAKTIV), state, DURING_ROUND)


# Dissolving


def test_dissolving_a_pair_frees_its_agencies() -> None:
    # GIVEN round 3 paired
    state = given(*round_3_paired())
    # WHEN pair-2 is dissolved
    events = decide(DissolvePair(ROUND_ID, "pair-2", "Byter tema"), state, DURING_SELECTION)
    # THEN it is recorded, and its agencies can be paired anew
    assert events == [PairDissolved(pair_id="pair-2", reason="Byter tema")]
    after = given(*round_3_paired(), *events)
    assert after.unpaired() == tuple(sorted((FASTIGHETSMAKLARINSPEKTIONEN, UHR)))


def test_cannot_dissolve_a_pair_that_does_not_exist() -> None:
    # GIVEN round 3 paired (pair-1 to pair-3)
    state = given(*round_3_paired())
    # WHEN / THEN dissolving pair-9 is refused
    with pytest.raises(PairNotFoundError, match="pair-9"):
        decide(DissolvePair(ROUND_ID, "pair-9", "Finns inte"), state, DURING_SELECTION)


def test_cannot_dissolve_a_pair_twice() -> None:
    # GIVEN pair-1 dissolved
    state = given(*round_3_paired(), PairDissolved(pair_id="pair-1", reason="Byter tema"))
    # WHEN / THEN dissolving it again is refused
    with pytest.raises(PairDissolvedError):
        decide(DissolvePair(ROUND_ID, "pair-1", "Igen"), state, DURING_SELECTION)


def test_cannot_dissolve_a_pair_after_its_plan_is_submitted() -> None:
    # GIVEN pair-1 has submitted its plan
    state = given(*round_3_running(), plan_submitted("pair-1"))
    # WHEN / THEN dissolving it is refused
    with pytest.raises(PairHasPlanError):
        decide(DissolvePair(ROUND_ID, "pair-1", "För sent"), state, DURING_ROUND)
