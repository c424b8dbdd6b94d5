"""A form's stream: staff map its fields; deliveries it cannot read are held, once, until
they are taken up."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain import (
    EMPTY_FORM,
    DeliveryNotHeldError,
    FieldRefsNotDistinctError,
    FormState,
    HoldDelivery,
    MapForm,
    RecordTakeUp,
    decide_form,
    evolve_form,
)
from events import DeliveryHeld, Event, FormMapped, HeldDeliveryTakenUp, SealedDelivery

NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)
FORM = "Xy12AbCd"
UUID_REF = "ecbb3121-7bd7-4a57-9a1c-2b1c0d9e4f11"
MAP = MapForm("typeform", FORM, {"org_number": UUID_REF, "contact_email": "Lp9j3kxu"})
HOLD = HoldDelivery(
    provider="typeform",
    form_id=FORM,
    delivery_id="01JDELIVERY",
    received_at=NOW,
    missing=("org_number",),
    reason="no answer for org_number",
    delivery=SealedDelivery(subject_id="subj-" + "a" * 32, ciphertext="c2VhbGVkLWRlbGl2ZXJ5"),
)


def given(*events: Event) -> FormState:
    state: FormState | None = None
    for event in events:
        state = evolve_form(state, event)
    return state or EMPTY_FORM


def test_an_unmapped_form_is_read_by_the_programmes_own_names() -> None:
    # GIVEN a form no one has mapped
    # WHEN / THEN each field is looked for under its programme name
    assert EMPTY_FORM.ref_for("org_number") == "org_number"
    assert EMPTY_FORM.ref_for("round_id") == "round_id"


def test_staff_map_a_forms_fields_and_the_rest_keep_their_names() -> None:
    # GIVEN a form no one has mapped
    # WHEN staff map two of its fields
    events = decide_form(MAP, None, NOW)
    # THEN the mapping is recorded, and read back field by field
    assert events == [FormMapped(provider="typeform", form_id=FORM, fields=dict(MAP.fields))]
    form = given(*events)
    assert form.ref_for("org_number") == UUID_REF
    assert form.ref_for("contact_email") == "Lp9j3kxu"
    assert form.ref_for("agency_name") == "agency_name"


def test_the_same_mapping_again_records_nothing() -> None:
    # GIVEN a mapped form
    form = given(*decide_form(MAP, None, NOW))
    # WHEN staff send the same mapping again
    # THEN nothing new is recorded
    assert decide_form(MAP, form, NOW) == []


def test_two_programme_fields_on_one_form_field_are_refused() -> None:
    # GIVEN / WHEN a mapping names one form field for two programme fields
    twice = MapForm("typeform", FORM, {"agency_name": UUID_REF, "contact_name": UUID_REF})
    # THEN it is refused, naming both
    with pytest.raises(FieldRefsNotDistinctError, match="agency_name and contact_name"):
        decide_form(twice, None, NOW)


def test_a_delivery_is_held_once() -> None:
    # GIVEN a form
    # WHEN a delivery it cannot read is held
    events = decide_form(HOLD, None, NOW)
    # THEN it is recorded as held, and the same delivery again is not held twice
    assert [type(e) for e in events] == [DeliveryHeld]
    form = given(*events)
    assert set(form.held) == {"01JDELIVERY"}
    assert decide_form(HOLD, form, NOW) == []


def test_a_held_delivery_is_taken_up_once_and_not_held_again() -> None:
    # GIVEN a held delivery
    form = given(*decide_form(HOLD, None, NOW))
    take_up = RecordTakeUp(FORM, "01JDELIVERY", "recorded", "2026-1")
    # WHEN it is taken up
    events = decide_form(take_up, form, NOW)
    # THEN the take-up is recorded; a retry records nothing, and a redelivery is not held again
    assert events == [
        HeldDeliveryTakenUp(
            form_id=FORM, delivery_id="01JDELIVERY", outcome="recorded", round_id="2026-1"
        )
    ]
    after = given(*decide_form(HOLD, None, NOW), *events)
    assert after.held == {}
    assert decide_form(take_up, after, NOW) == []
    assert decide_form(HOLD, after, NOW) == []


def test_a_take_up_of_a_delivery_never_held_is_refused() -> None:
    # GIVEN a form holding nothing
    # WHEN a take-up names a delivery
    # THEN it is refused
    with pytest.raises(DeliveryNotHeldError):
        decide_form(RecordTakeUp(FORM, "never-held", "recorded"), None, NOW)
