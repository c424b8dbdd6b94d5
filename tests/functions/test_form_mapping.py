"""A form built in Typeform's own builder: generated refs, Swedish titles, a hidden field of
its own name. Its deliveries are never lost: unreadable ones are held sealed and listed among
the refusals; staff map the form through the API; held deliveries are taken up, once."""

from __future__ import annotations

import importlib
import json
from typing import Any

import pytest

from domain import form_stream_id
from events import AgencyApplied, DeliveryHeld, FormMapped, HeldDeliveryTakenUp
from functions.common import bootstrap, settings
from infra.vault import SubjectErasedError
from tests.domain.given import KRIMINALVARDEN
from tests.functions.http import (
    CONTACT_EMAIL,
    DG_NAME,
    Reply,
    deliver_typeform,
    invoke,
    staff,
    typeform_payload,
)
from tests.functions.rounds import ROUND_ID, Rounds, form_events
from tests.lifecycle.streams import stream_batch
from tests.support.apigw import LambdaContext, http_event

FORM = "lT4Z3j"
# What Typeform's builder gives each field: a generated ref (and an id), the title in Swedish
BUILDER_REFS = {
    "org_number": ("ecbb3121-7bd7-4a57-9a1c-2b1c0d9e4f11", "Organisationsnummer"),
    "agency_name": ("0d6bc1c2-41a4-4d8e-a1b2-9b2f7f0c1a01", "Myndighetens namn"),
    "director_general": ("5f1d0c2e-8a0b-4c39-b0e4-1f6e2d3c4b02", "Generaldirektör"),
    "contact_name": ("a7e3b9d1-2c4f-4e6a-8b0d-3f5e7a9c1b03", "Kontaktperson"),
    "motivation": ("c2d4e6f8-0a1b-4c3d-9e5f-7a8b9c0d1e04", "Motivering"),
    "contact_email": ("Lp9j3kxu", "E-post"),  # mapped by the field's id, not its ref
    "themes": ("9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c05", "Teman"),
}
MAPPING = {name: ref for name, (ref, _) in BUILDER_REFS.items()} | {"round_id": "omgang"}


def builder_payload(event_id: str) -> dict[str, Any]:
    """Typeform's delivery of the usual application from a form made in its builder."""
    payload = typeform_payload(event_id)
    response = payload["form_response"]
    for answer in response["answers"]:
        ref = answer["field"]["ref"]
        if ref == "contact_email":
            answer["field"].update(id="Lp9j3kxu", ref="3e5a7c9b-1d2f-4a6b-8c0e-2f4a6c8e0a06")
        elif ref in BUILDER_REFS:
            answer["field"].update(id=f"id{len(ref)}", ref=BUILDER_REFS[ref][0])
    response["hidden"] = {"omgang": response["hidden"]["round_id"]}
    response["definition"]["fields"] = [
        {"id": ref, "ref": ref, "title": title} for ref, title in BUILDER_REFS.values()
    ]
    return payload


def project() -> None:
    projector = importlib.import_module("functions.projector.app")
    batch = stream_batch(settings.settings().require("event_store_table"))
    assert projector.handler(batch, LambdaContext()) == {"batchItemFailures": []}


def refusals() -> list[dict[str, Any]]:
    reply = invoke("queries", http_event("GET", "/refusals"))
    assert reply.status == 200, reply.body
    found: list[dict[str, Any]] = reply.body["refusals"]
    return found


def map_form(fields: dict[str, str], key: str | None = None) -> Reply:
    return staff("PUT", f"/forms/{FORM}/mapping", {"fields": fields}, key=key)


def take_up() -> Reply:
    return staff("POST", f"/forms/{FORM}/take-up", {})


def test_a_builder_forms_delivery_is_held_sealed_and_listed_among_the_refusals(
    rounds: Rounds,
) -> None:
    # GIVEN an open round, and a form no one has mapped
    rounds.open()

    # WHEN a signed delivery from a form made in Typeform's builder arrives
    reply = deliver_typeform(builder_payload("tf-held-1"))

    # THEN it is answered refused (not a 400 that Typeform would not retry), saying what to do
    assert (reply.status, reply.body["status"]) == (202, "refused"), reply.body
    assert f"PUT /forms/{FORM}/mapping" in reply.body["reason"]
    # AND the round is untouched, the form holds the delivery sealed, with what was missing
    assert len(rounds.events()) == 2
    [held] = form_events(FORM)
    assert isinstance(held, DeliveryHeld)
    assert held.delivery_id == "tf-held-1"
    assert set(held.missing) == {"round_id", *BUILDER_REFS} - {"motivation"}  # it is optional
    assert DG_NAME not in held.model_dump_json()
    # AND staff see it among the refusals, with its form and id and nothing personal
    project()
    [listed] = refusals()
    assert listed | {"refused_at": None} == {
        "refused_at": None,
        "round_id": None,
        "org_number": "",
        "agency_name": "",
        "rule": "ensure_answers_readable",
        "reason": held.reason,
        "source": "typeform",
        "form_id": FORM,
        "delivery_id": "tf-held-1",
        "taken_up": None,
    }
    assert CONTACT_EMAIL not in json.dumps(listed)


def test_a_held_delivery_sent_again_is_a_duplicate_and_mints_no_key(rounds: Rounds) -> None:
    # GIVEN a held delivery
    rounds.open()
    deliver_typeform(builder_payload("tf-held-2"))
    keys = _subject_keys()

    # WHEN Typeform sends it again
    again = deliver_typeform(builder_payload("tf-held-2"))

    # THEN it is a duplicate: held once, and no key was made for it
    assert again.body["status"] == "duplicate"
    assert len(form_events(FORM)) == 1
    assert _subject_keys() == keys


def test_once_the_form_is_mapped_a_held_delivery_is_taken_up_and_recorded_once(
    rounds: Rounds,
) -> None:
    # GIVEN a held delivery of a form made in the builder
    rounds.open()
    deliver_typeform(builder_payload("tf-held-3"))
    [held] = form_events(FORM)
    assert isinstance(held, DeliveryHeld)

    # WHEN staff map the form, then take up what it holds
    mapped = map_form(MAPPING)
    taken = take_up()

    # THEN the mapping is recorded and says one delivery waits
    assert mapped.status == 200, mapped.body
    assert (mapped.body["fields"], mapped.body["held"]) == (MAPPING, 1)
    # AND the delivery is recorded in its round, under the sender's id, once
    assert taken.status == 200, taken.body
    assert taken.body["taken_up"] == [
        {"delivery_id": "tf-held-3", "outcome": "recorded", "reason": None, "round_id": ROUND_ID}
    ]
    assert taken.body["still_held"] == 0
    applied = [e for e in rounds.events() if isinstance(e, AgencyApplied)]
    assert [(e.delivery_id, e.agency_name) for e in applied] == [("tf-held-3", "Skatteverket")]
    assert bootstrap.vault().open(applied[0].director_general) == {"name": DG_NAME}
    # AND the sealed copy can no longer be opened: its people live under their own keys now
    with pytest.raises(SubjectErasedError):
        bootstrap.vault().open_delivery(held.delivery)
    # AND a second take-up, and the same delivery sent again, change nothing
    assert (take_up().body["taken_up"], take_up().body["still_held"]) == ([], 0)
    assert deliver_typeform(builder_payload("tf-held-3")).body["status"] == "duplicate"
    assert len([e for e in rounds.events() if isinstance(e, AgencyApplied)]) == 1
    assert [type(e) for e in form_events(FORM)] == [
        DeliveryHeld,
        FormMapped,
        HeldDeliveryTakenUp,
    ]
    # AND the refusal staff saw says what became of it
    project()
    [listed] = refusals()
    assert (listed["taken_up"], listed["round_id"]) == ("recorded", ROUND_ID)


def test_a_mapped_forms_deliveries_are_recorded_as_they_come(rounds: Rounds) -> None:
    # GIVEN a round, and a builder form staff have mapped
    rounds.open()
    assert map_form(MAPPING).status == 200

    # WHEN its delivery arrives
    reply = deliver_typeform(builder_payload("tf-mapped-1"))

    # THEN it is recorded at once, and another form, with the programme's own names, still is
    assert reply.body["status"] == "recorded", reply.body
    named = typeform_payload("tf-named-1", org_number=KRIMINALVARDEN, agency_name="Kriminalvården")
    named["form_response"]["form_id"] = "Named1"
    assert deliver_typeform(named).body["status"] == "recorded"
    assert [type(e) for e in form_events(FORM)] == [FormMapped]
    assert form_events("Named1") == []


def test_a_mapping_that_leaves_a_field_unreadable_keeps_the_delivery_held(
    rounds: Rounds,
) -> None:
    # GIVEN a held delivery, and a mapping that forgets the contact's e-mail
    rounds.open()
    deliver_typeform(builder_payload("tf-held-4"))
    map_form({name: ref for name, ref in MAPPING.items() if name != "contact_email"})

    # WHEN it is taken up
    taken = take_up()

    # THEN it is still held, saying what is still missing, and the round is untouched
    assert taken.body["taken_up"] == [
        {
            "delivery_id": "tf-held-4",
            "outcome": None,
            "reason": "still unreadable: contact_email",
            "round_id": None,
        }
    ]
    assert taken.body["still_held"] == 1
    assert len(rounds.events()) == 2


@pytest.mark.parametrize(
    ("fields", "status", "rule"),
    [
        pytest.param(
            {"agency_name": "abc", "contact_name": "abc"},
            409,
            "ensure_distinct_field_refs",
            id="one ref twice",
        ),
        pytest.param({"agency": "abc"}, 422, None, id="not a programme field"),
        pytest.param({"agency_name": "Myndighetens namn"}, 422, None, id="a title, not a ref"),
        pytest.param({}, 422, None, id="nothing mapped"),
    ],
)
def test_a_mapping_that_cannot_be_right_is_refused_and_records_nothing(
    rounds: Rounds, fields: dict[str, str], status: int, rule: str | None
) -> None:
    # WHEN staff send a mapping that cannot be right
    reply = map_form(fields)

    # THEN it is refused, saying why, and the form's stream is untouched
    assert reply.status == status, reply.body
    assert reply.body.get("rule") == rule
    assert form_events(FORM) == []


def _subject_keys() -> int:
    table = settings.settings().require("subject_keys_table")
    return int(bootstrap.dynamodb_client().scan(TableName=table, Select="COUNT")["Count"])


def test_the_form_stream_is_named_for_its_provider_and_form() -> None:
    assert form_stream_id("typeform", FORM) == f"form-typeform-{FORM}"
