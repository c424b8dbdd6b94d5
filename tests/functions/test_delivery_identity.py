"""A delivery is identified by its source, its round and the sender's id, never the id alone.

Senders choose their ids: a Standard Webhooks `webhook-id` may equal a Typeform `event_id`, and
one form tool's ids repeat across rounds. None of that may lose an application, give two people
one subject, or let an erasure reach someone else. And an application is screened against its
round before anything is sealed: a duplicate or a refusal mints no person's key.
"""

from __future__ import annotations

import boto3
import pytest

from events import AgencyApplied, SealedPersonalData
from functions.common import bootstrap
from infra.vault import SubjectErasedError
from tests.domain.given import KRIMINALVARDEN, SKATTEVERKET
from tests.functions.http import (
    application,
    deliver_forms,
    deliver_typeform,
    staff,
    typeform_payload,
)
from tests.functions.rounds import Rounds
from tests.support.aws import REGION
from tests.support.stack import FunctionsEnv

SHARED_ID = "01HZX3K9T2SHARED00000001"


def applied(rounds: Rounds, round_id: str) -> list[AgencyApplied]:
    return [e for e in rounds.events(round_id) if isinstance(e, AgencyApplied)]


def subject_keys(env: FunctionsEnv) -> int:
    table = env.tables["SubjectKeysTable"]
    scanned = boto3.client("dynamodb", region_name=REGION).scan(TableName=table, Select="COUNT")
    return int(scanned["Count"])


@pytest.fixture
def two_rounds(rounds: Rounds) -> Rounds:
    rounds.open("2026-1")
    rounds.open("2026-2")
    rounds.open("2026-3")
    return rounds


def test_the_same_id_from_another_source_is_another_application(rounds: Rounds) -> None:
    # GIVEN an open round with Skatteverket's application from Typeform, id SHARED_ID
    rounds.open()
    first = deliver_typeform(typeform_payload(SHARED_ID))
    assert first.body["status"] == "recorded"
    # WHEN another agency's Standard Webhooks delivery carries the same id
    other = application(org_number=KRIMINALVARDEN.replace("-", ""), agency_name="Kriminalvården")
    second = deliver_forms({"type": "application.submitted", **other}, SHARED_ID)
    # THEN it is recorded too: two applications, not a "duplicate" and a lost one
    assert second.body["status"] == "recorded", second.body
    assert [a.org_number for a in applied(rounds, "2026-1")] == [SKATTEVERKET, KRIMINALVARDEN]


def test_the_same_id_in_two_rounds_gives_two_people_two_subjects(two_rounds: Rounds) -> None:
    # GIVEN the same sender's id delivered to two rounds, by two agencies
    for round_id, org in (("2026-1", SKATTEVERKET), ("2026-2", KRIMINALVARDEN)):
        payload = typeform_payload(SHARED_ID, round_id=round_id, org_number=org.replace("-", ""))
        assert deliver_typeform(payload).body["status"] == "recorded"
    (one,) = applied(two_rounds, "2026-1")
    (two,) = applied(two_rounds, "2026-2")
    # THEN their people are different subjects
    assert one.contact.subject_id != two.contact.subject_id
    assert one.director_general.subject_id != two.director_general.subject_id
    # AND erasing the first round's contact leaves the second's readable
    reply = staff(
        "POST", f"/subjects/{one.contact.subject_id}/erasure", {"retention_decision": "Begäran"}
    )
    assert reply.status == 202
    vault = bootstrap.vault()
    with pytest.raises(SubjectErasedError):
        vault.open(one.contact)
    assert vault.open(two.contact)["email"]


def test_after_an_erasure_the_same_id_in_another_round_is_recorded(two_rounds: Rounds) -> None:
    # GIVEN a delivery in one round whose contact was erased
    assert deliver_typeform(typeform_payload(SHARED_ID, round_id="2026-1")).status == 202
    (erased,) = applied(two_rounds, "2026-1")
    staff("POST", f"/subjects/{erased.contact.subject_id}/erasure", {"retention_decision": "x"})
    # WHEN a new delivery with the same id arrives for a third round
    reply = deliver_typeform(typeform_payload(SHARED_ID, round_id="2026-3"))
    # THEN it is recorded, its people readable: not a "duplicate" of someone erased
    assert reply.body["status"] == "recorded", reply.body
    (third,) = applied(two_rounds, "2026-3")
    assert bootstrap.vault().open(third.contact)["email"]


def test_a_refused_delivery_mints_no_subject_keys(rounds: Rounds, env: FunctionsEnv) -> None:
    # GIVEN a round whose applications have closed, and no key yet
    rounds.open()
    rounds.close_applications()
    before = subject_keys(env)
    # WHEN an application arrives, and another for a round that does not exist
    late = deliver_typeform(typeform_payload("late-1"))
    unknown = deliver_typeform(typeform_payload("nowhere-1", round_id="2031-9"))
    # THEN both are refused, and no person's key was made for either
    assert (late.body["status"], unknown.body["status"]) == ("refused", "refused")
    assert subject_keys(env) == before


def test_a_duplicate_is_recognised_before_anything_is_sealed(
    rounds: Rounds, env: FunctionsEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a recorded delivery
    rounds.open()
    assert deliver_typeform(typeform_payload(SHARED_ID)).body["status"] == "recorded"
    keys = subject_keys(env)
    sealed: list[str] = []
    vault = bootstrap.vault()
    original = vault.seal

    def seal(subject_id: str, data: dict[str, str]) -> SealedPersonalData:
        sealed.append(subject_id)
        return original(subject_id, data)

    monkeypatch.setattr(vault, "seal", seal)
    # WHEN it is delivered again
    again = deliver_typeform(typeform_payload(SHARED_ID))
    # THEN it is a duplicate, and the vault was never asked to seal anyone
    assert again.body["status"] == "duplicate"
    assert sealed == []
    assert subject_keys(env) == keys
