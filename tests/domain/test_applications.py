"""Applying to a round, refusals recorded for staff, and withdrawing an application."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from domain import (
    AgencyInActivePairError,
    ApplicationNotFoundError,
    ApplicationNotLiveError,
    ApplicationWindowClosedError,
    DuplicateApplicationError,
    InvalidOrgNumberError,
    NoThemesError,
    OrganiserCannotApplyError,
    PreferredPartnerIsApplicantError,
    RefuseApplication,
    RoundClosedError,
    RoundNotFoundError,
    TrioNeedsOddCountError,
    UnknownThemeError,
    WithdrawApplication,
    decide,
)
from events import (
    AgencyApplied,
    ApplicationRefused,
    ApplicationWithdrawn,
    Event,
    PairDissolved,
    PairFormed,
    RoundCancelled,
)
from tests.domain.given import (
    ARBETSGIVARVERKET,
    ATTRAKTIV,
    BEFORE_OPENING,
    CLOSES,
    DIGITALISERING,
    DURING_APPLICATIONS,
    DURING_ROUND,
    DURING_SELECTION,
    ESV,
    KRIMINALVARDEN,
    KUSTBEVAKNINGEN,
    LANSSTYRELSEN_STOCKHOLM,
    ROUND_ID,
    SKATTEVERKET,
    UHR,
    VI_KANSLA,
    applied,
    apply,
    given,
    in_selection,
    open_round,
    round_3_closed,
    round_3_paired,
    scheduled,
    sealed,
    with_admitted,
    with_check_digit,
)

REFUSAL = RefuseApplication(
    round_id=ROUND_ID,
    org_number="202100-5449",
    agency_name="Skatteverket",
    rule="ensure_valid_org_number",
    reason="the organisation number's check digit does not match",
    source="typeform",
    delivery_id="tf-refused-1",
)


def refuse(org_number: str = "202100-5449", **changes: Any) -> RefuseApplication:
    return replace(REFUSAL, org_number=org_number, **changes)


# Applying


def test_an_agency_applies_while_applications_are_open() -> None:
    # GIVEN round 3 open for applications
    state = given(*open_round())
    # WHEN Skatteverket applies through Typeform, number without hyphen, themes as the form spells
    command = apply(
        "2021005448",
        agency_name="Skatteverket",
        themes=("Vi-känsla ", "DIGITALISERING"),
        preferred_partner="202100-0225",
        motivation=sealed(3),
        delivery_id="tf-0001",
    )
    events = decide(command, state, DURING_APPLICATIONS)
    # THEN the application is recorded with the stored number and the round's theme spelling
    assert events == [
        AgencyApplied(
            org_number=SKATTEVERKET,
            agency_name="Skatteverket",
            director_general=sealed(1),
            contact=sealed(2),
            themes=(VI_KANSLA, DIGITALISERING),
            preferred_partner=KRIMINALVARDEN,
            motivation=sealed(3),
            submitted_at=DURING_APPLICATIONS,
            source="typeform",
            delivery_id="tf-0001",
        )
    ]


def test_cannot_apply_to_a_round_that_does_not_exist() -> None:
    # GIVEN no round
    # WHEN / THEN an application is refused as not found
    with pytest.raises(RoundNotFoundError):
        decide(apply(SKATTEVERKET), None, DURING_APPLICATIONS)


def test_cannot_apply_before_applications_open() -> None:
    # GIVEN a round only scheduled
    state = given(scheduled())
    # WHEN / THEN an early application is refused, saying when applications open
    with pytest.raises(ApplicationWindowClosedError, match="open at 2015-01-12"):
        decide(apply(SKATTEVERKET), state, BEFORE_OPENING)


def test_cannot_apply_after_applications_close() -> None:
    # GIVEN applications have closed
    state = given(*in_selection(KRIMINALVARDEN))
    # WHEN / THEN a late application is refused
    with pytest.raises(ApplicationWindowClosedError, match="closed at 2015-02-13"):
        decide(apply(SKATTEVERKET), state, DURING_SELECTION)


def test_cannot_apply_once_the_closing_time_has_passed_even_before_the_transition() -> None:
    # GIVEN applications still open in the state, but their closing time has come
    state = given(*open_round())
    # WHEN / THEN an application a second late is refused
    with pytest.raises(ApplicationWindowClosedError):
        decide(apply(SKATTEVERKET), state, CLOSES + timedelta(seconds=1))


def test_cannot_apply_to_a_cancelled_round() -> None:
    # GIVEN a cancelled round
    state = given(*open_round(), RoundCancelled(reason="För få sökande"))
    # WHEN / THEN an application is refused
    with pytest.raises(ApplicationWindowClosedError, match="cancelled"):
        decide(apply(SKATTEVERKET), state, DURING_APPLICATIONS)


@pytest.mark.parametrize("org_number", ["202100-5449", "20210054", "811218-9876"])
def test_cannot_apply_with_an_invalid_org_number(org_number: str) -> None:
    # GIVEN applications open
    state = given(*open_round())
    # WHEN / THEN an application with a bad number is refused
    with pytest.raises(InvalidOrgNumberError):
        decide(apply(org_number), state, DURING_APPLICATIONS)


@pytest.mark.parametrize("organiser", [ESV, ARBETSGIVARVERKET.replace("-", "")])
def test_the_organisers_cannot_apply(organiser: str) -> None:
    # GIVEN applications open
    state = given(*open_round())
    # WHEN / THEN an organiser's application is refused (with or without the hyphen)
    with pytest.raises(OrganiserCannotApplyError, match="runs the programme"):
        decide(apply(organiser), state, DURING_APPLICATIONS)


def test_cannot_apply_twice_to_the_same_round() -> None:
    # GIVEN Skatteverket has applied
    state = given(*open_round(), applied(SKATTEVERKET, delivery_id="tf-0001"))
    # WHEN it applies again in another delivery
    # THEN the second application is refused
    with pytest.raises(DuplicateApplicationError, match=SKATTEVERKET):
        decide(apply(SKATTEVERKET, delivery_id="tf-0002"), state, DURING_APPLICATIONS)


def test_a_repeated_delivery_records_nothing_even_after_applications_close() -> None:
    # GIVEN a delivery recorded, then applications closed
    state = given(*open_round(), applied(SKATTEVERKET, delivery_id="tf-0001"))
    closed = given(*in_selection(), applied(SKATTEVERKET, delivery_id="tf-0001"))
    # WHEN the form tool retries the same delivery
    command = apply(SKATTEVERKET, delivery_id="tf-0001")
    # THEN it is a duplicate: nothing new, no error
    assert decide(command, state, DURING_APPLICATIONS) == []
    assert decide(command, closed, DURING_SELECTION) == []


def test_an_agency_that_withdrew_may_apply_again_while_open() -> None:
    # GIVEN Skatteverket applied and withdrew
    state = given(
        *open_round(), applied(SKATTEVERKET), ApplicationWithdrawn(org_number=SKATTEVERKET)
    )
    # WHEN it applies again
    events = decide(apply(SKATTEVERKET, delivery_id="tf-0002"), state, DURING_APPLICATIONS)
    # THEN the new application is recorded
    assert [type(e) for e in events] == [AgencyApplied]


def test_cannot_name_itself_as_preferred_partner() -> None:
    # GIVEN applications open
    state = given(*open_round())
    # WHEN Skatteverket names its own number (written differently) as preferred partner
    command = apply(SKATTEVERKET, preferred_partner="2021005448")
    # THEN it is refused
    with pytest.raises(PreferredPartnerIsApplicantError):
        decide(command, state, DURING_APPLICATIONS)


def test_a_preferred_partner_must_have_a_valid_org_number() -> None:
    # GIVEN applications open
    state = given(*open_round())
    # WHEN the preferred partner's number fails its check digit
    # THEN the application is refused
    with pytest.raises(InvalidOrgNumberError):
        decide(apply(SKATTEVERKET, preferred_partner="202100-0226"), state, DURING_APPLICATIONS)


def test_a_blank_preferred_partner_counts_as_none() -> None:
    # GIVEN applications open
    state = given(*open_round())
    # WHEN the optional field arrives empty
    [event] = decide(apply(SKATTEVERKET, preferred_partner=" "), state, DURING_APPLICATIONS)
    # THEN the application has no preferred partner
    assert isinstance(event, AgencyApplied)
    assert event.preferred_partner is None


def test_cannot_apply_without_a_theme() -> None:
    # GIVEN applications open
    state = given(*open_round())
    # WHEN / THEN an application with no themes is refused
    with pytest.raises(NoThemesError):
        decide(apply(SKATTEVERKET, themes=()), state, DURING_APPLICATIONS)


def test_cannot_apply_with_a_theme_outside_the_round() -> None:
    # GIVEN round 3's themes
    state = given(*open_round())
    # WHEN an application names another theme
    # THEN it is refused, listing the round's themes and not echoing the answer
    with pytest.raises(UnknownThemeError, match="attraktiv arbetsgivare") as refused:
        decide(apply(SKATTEVERKET, themes=("Anna Andersson",)), state, DURING_APPLICATIONS)
    assert "Anna" not in refused.value.message


# Refusals


def test_a_refusal_is_recorded_with_its_rule_and_reason() -> None:
    # GIVEN a round
    state = given(*open_round())
    # WHEN intake records an application the rules refused
    events = decide(refuse(), state, DURING_APPLICATIONS)
    # THEN staff can see it, the rule named as a 409 names it
    assert events == [
        ApplicationRefused(
            org_number="202100-5449",
            agency_name="Skatteverket",
            rule="ensure_valid_org_number",
            reason="the organisation number's check digit does not match",
            source="typeform",
            delivery_id="tf-refused-1",
        )
    ]


@pytest.mark.parametrize(
    "stream",
    [(scheduled(),), (*open_round(), RoundCancelled(reason="Inställd")), round_3_closed()],
    ids=["scheduled", "cancelled", "closed"],
)
def test_a_refusal_is_recorded_in_any_state_of_the_round(stream: tuple[Event, ...]) -> None:
    # GIVEN a round not open for applications
    state = given(*stream)
    # WHEN a refusal is recorded
    events = decide(refuse(rule="ensure_round_is_open"), state, DURING_ROUND)
    # THEN it is there for staff: nothing is silently dropped
    assert [type(e) for e in events] == [ApplicationRefused]


def test_a_repeated_refused_delivery_records_nothing() -> None:
    # GIVEN a refused delivery recorded
    state = given(*open_round(), *decide(refuse(), given(*open_round()), DURING_APPLICATIONS))
    # WHEN the same delivery comes again, as a refusal or as an application
    # THEN it is a duplicate either way
    assert decide(refuse(), state, DURING_APPLICATIONS) == []
    assert decide(apply(SKATTEVERKET, delivery_id="tf-refused-1"), state, DURING_APPLICATIONS) == []


def test_a_refusal_never_stores_a_personal_identity_number() -> None:
    # GIVEN a personal identity number typed where the organisation number belongs
    personal = with_check_digit("811218987")
    # WHEN the refusal is recorded
    [event] = decide(refuse(personal), given(*open_round()), DURING_APPLICATIONS)
    # THEN the event withholds it
    assert isinstance(event, ApplicationRefused)
    assert event.org_number == "(withheld)"


def test_a_refusal_keeps_whatever_the_sender_sent_storable() -> None:
    # GIVEN over-long input and a rule name the event would not admit
    command = refuse("x" * 100, agency_name="A" * 300, reason="r" * 900, rule="rule-42_x")
    # WHEN the refusal is recorded
    [event] = decide(command, given(*open_round()), DURING_APPLICATIONS)
    # THEN it is cut to what the event admits rather than lost
    assert isinstance(event, ApplicationRefused)
    assert (len(event.org_number), len(event.agency_name), len(event.reason)) == (40, 200, 500)
    assert event.rule == "rule42_x"


def test_a_refusal_for_a_round_that_does_not_exist_is_refused_as_not_found() -> None:
    # GIVEN no round (intake records such refusals elsewhere)
    # WHEN / THEN recording on the round is refused
    with pytest.raises(RoundNotFoundError):
        decide(refuse(), None, DURING_APPLICATIONS)


# Withdrawing


def test_an_agency_withdraws_its_application() -> None:
    # GIVEN Skatteverket has applied
    state = given(*open_round(), applied(SKATTEVERKET))
    # WHEN it withdraws
    events = decide(WithdrawApplication(ROUND_ID, SKATTEVERKET, "Omprioritering"), state, CLOSES)
    # THEN the withdrawal is recorded
    assert events == [ApplicationWithdrawn(org_number=SKATTEVERKET, reason="Omprioritering")]


def test_cannot_withdraw_an_application_never_made() -> None:
    # GIVEN Skatteverket has not applied
    state = given(*open_round())
    # WHEN / THEN a withdrawal is refused
    with pytest.raises(ApplicationNotFoundError):
        decide(WithdrawApplication(ROUND_ID, SKATTEVERKET), state, DURING_APPLICATIONS)


def test_cannot_withdraw_twice() -> None:
    # GIVEN Skatteverket has withdrawn
    state = given(
        *open_round(), applied(SKATTEVERKET), ApplicationWithdrawn(org_number=SKATTEVERKET)
    )
    # WHEN / THEN a second withdrawal is refused: the application is not live
    with pytest.raises(ApplicationNotLiveError, match="withdrawn"):
        decide(WithdrawApplication(ROUND_ID, SKATTEVERKET), state, DURING_APPLICATIONS)


def test_cannot_withdraw_while_in_an_active_pair() -> None:
    # GIVEN round 3 paired
    state = given(*round_3_paired())
    # WHEN / THEN Skatteverket cannot withdraw while it works in pair-1
    with pytest.raises(AgencyInActivePairError, match="pair-1"):
        decide(WithdrawApplication(ROUND_ID, SKATTEVERKET), state, DURING_SELECTION)


def test_can_withdraw_once_the_pair_is_dissolved() -> None:
    # GIVEN pair-1 dissolved
    state = given(*round_3_paired(), PairDissolved(pair_id="pair-1", reason="Omorganisation"))
    # WHEN Skatteverket withdraws
    events = decide(WithdrawApplication(ROUND_ID, SKATTEVERKET), state, DURING_SELECTION)
    # THEN it is recorded
    assert events == [ApplicationWithdrawn(org_number=SKATTEVERKET)]


def test_an_admitted_agency_cannot_withdraw_while_a_trio_depends_on_the_odd_count() -> None:
    # GIVEN five admitted agencies: a trio and two not yet paired
    state = given(
        *with_admitted(SKATTEVERKET, KRIMINALVARDEN, UHR, KUSTBEVAKNINGEN, LANSSTYRELSEN_STOCKHOLM),
        PairFormed(
            pair_id="pair-1", org_numbers=(SKATTEVERKET, KRIMINALVARDEN, UHR), theme=ATTRAKTIV
        ),
    )
    # WHEN / THEN an unpaired admitted agency's withdrawal waits until the trio is dissolved
    with pytest.raises(TrioNeedsOddCountError, match="pair-1"):
        decide(WithdrawApplication(ROUND_ID, KUSTBEVAKNINGEN), state, DURING_SELECTION)


def test_cannot_withdraw_from_a_closed_round() -> None:
    # GIVEN a closed round
    state = given(*round_3_closed())
    # WHEN / THEN withdrawing is refused
    with pytest.raises(RoundClosedError):
        decide(WithdrawApplication(ROUND_ID, SKATTEVERKET), state, DURING_ROUND)
