"""POST /subjects/{subject_id}/erasure: the erasure is recorded on the subject's stream, then
the key is destroyed — so the person's sealed data is unreadable while every event stays."""

from __future__ import annotations

from functools import cache

import pytest

from domain.streams import subject_stream_id
from events import AgencyApplied, PersonalDataErased
from functions.commands.actors import staff_actor
from functions.common import bootstrap
from infra.vault import PersonalDataVault, SubjectErasedError, application_subject_id
from tests.functions.http import STAFF_ARN, deliver_typeform, staff, typeform_payload
from tests.functions.rounds import ROUND_ID, Rounds

EVENT_ID = "01HZX3K9T2TYPEFORM0000001"
RETENTION = "Begäran enligt art. 17 GDPR, beslut 2026-05-04"


def erasures(subject_id: str) -> list[PersonalDataErased]:
    recorded = bootstrap.event_store().read(subject_stream_id(subject_id))
    return [r.event for r in recorded if isinstance(r.event, PersonalDataErased)]


def test_erasing_a_contact_makes_their_sealed_data_unreadable_and_records_why(
    rounds: Rounds,
) -> None:
    # GIVEN an application whose contact person is sealed in the round's stream
    rounds.open()
    deliver_typeform(typeform_payload(EVENT_ID))
    applied = rounds.events()[-1]
    assert isinstance(applied, AgencyApplied)
    subject_id = application_subject_id("typeform", ROUND_ID, EVENT_ID, "contact")

    # WHEN staff erase that person
    reply = staff("POST", f"/subjects/{subject_id}/erasure", {"retention_decision": RETENTION})

    # THEN the erasure is accepted and recorded with its retention decision
    assert (reply.status, reply.body) == (202, {"subject_id": subject_id, "status": "erased"})
    (erased,) = erasures(subject_id)
    assert erased.retention_decision == RETENTION
    # AND the application still stands, but the contact can no longer be read
    assert rounds.events()[-1] == applied
    with pytest.raises(SubjectErasedError):
        bootstrap.vault().open(applied.contact)
    # AND the director general, another subject, is untouched
    assert bootstrap.vault().open(applied.director_general)["name"]


def test_erasing_twice_records_one_erasure(env: object) -> None:
    # GIVEN a subject already erased
    subject_id = application_subject_id("typeform", ROUND_ID, "some-delivery", "contact")
    staff("POST", f"/subjects/{subject_id}/erasure", {"retention_decision": RETENTION})

    # WHEN the erasure is asked for again
    reply = staff("POST", f"/subjects/{subject_id}/erasure", {"retention_decision": RETENTION})

    # THEN it is accepted, and the stream still holds one erasure
    assert reply.status == 202
    assert len(erasures(subject_id)) == 1


def test_an_erasure_interrupted_before_the_key_is_destroyed_is_completed_by_a_retry(
    rounds: Rounds, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a recorded application, and a vault that fails once when destroying a key
    rounds.open()
    deliver_typeform(typeform_payload(EVENT_ID))
    applied = rounds.events()[-1]
    assert isinstance(applied, AgencyApplied)
    subject_id = applied.contact.subject_id
    real = bootstrap.vault()

    class CrashingOnce(PersonalDataVault):
        crashed = False

        def erase(self, subject_id: str) -> None:
            if not CrashingOnce.crashed:
                CrashingOnce.crashed = True
                raise ConnectionError("the keyring went away")
            real.erase(subject_id)

    monkeypatch.setattr(bootstrap, "vault", cache(lambda: CrashingOnce(real._keyring)))
    path = f"/subjects/{subject_id}/erasure"

    # WHEN the erasure crashes after it was recorded, and is retried
    with pytest.raises(ConnectionError):
        staff("POST", path, {"retention_decision": RETENTION})
    assert len(erasures(subject_id)) == 1
    assert real.open(applied.contact)  # the key survived the crash
    retried = staff("POST", path, {"retention_decision": RETENTION})

    # THEN the retry completes it: one recorded erasure, and the key is gone
    assert retried.status == 202
    assert len(erasures(subject_id)) == 1
    with pytest.raises(SubjectErasedError):
        real.open(applied.contact)


def test_a_retried_delivery_after_its_contact_was_erased_is_a_duplicate(rounds: Rounds) -> None:
    # GIVEN an application whose contact was erased
    rounds.open()
    deliver_typeform(typeform_payload(EVENT_ID))
    subject_id = application_subject_id("typeform", ROUND_ID, EVENT_ID, "contact")
    staff("POST", f"/subjects/{subject_id}/erasure", {"retention_decision": RETENTION})
    before = rounds.events()

    # WHEN Typeform retries the delivery (its subjects cannot be sealed again)
    reply = deliver_typeform(typeform_payload(EVENT_ID))

    # THEN it is a duplicate, and no new key brings the person back
    assert (reply.status, reply.body["status"]) == (202, "duplicate")
    assert rounds.events() == before


def test_the_erasure_names_who_asked_for_it(env: object) -> None:
    subject_id = application_subject_id(
        "typeform", ROUND_ID, "another-delivery", "director_general"
    )
    staff("POST", f"/subjects/{subject_id}/erasure", {"retention_decision": RETENTION})
    (recorded,) = bootstrap.event_store().read(subject_stream_id(subject_id))
    assert recorded.metadata.actor == staff_actor(STAFF_ARN)
    assert recorded.metadata.actor.startswith("staff:")
