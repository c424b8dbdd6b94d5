"""What a delivery costs in AWS calls: a redelivery is answered on one read of its round.

Counted at botocore, as `bench/calls_per_application.py` counts them (issue 13's target: a
duplicate delivery in at most one call). The repeat of a delivery is its sender's retry, so it
is the common case; a new application's calls are the bench's to report.
"""

from __future__ import annotations

from typing import Any

import botocore.client
import pytest

from events import AgencyApplied
from tests.functions.http import application, deliver_forms, deliver_typeform, typeform_payload
from tests.functions.rounds import ROUND_ID, Rounds
from tests.functions.test_form_mapping import MAPPING, builder_payload, map_form

STORE_READS = {"dynamodb.GetItem store", "dynamodb.Query store"}


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The calls the handlers' botocore clients make, from the moment the list is cleared."""
    made: list[str] = []
    make_api_call = botocore.client.BaseClient._make_api_call  # type: ignore[attr-defined]

    def counted(client: Any, operation: str, params: dict[str, Any]) -> Any:
        table = params.get("TableName")
        on = "" if table is None else f" {'keys' if 'SubjectKeys' in table else 'store'}"
        made.append(f"{client.meta.service_model.service_name}.{operation}{on}")
        return make_api_call(client, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", counted)
    return made


def test_a_typeform_redelivery_is_answered_duplicate_on_one_read(
    open_round: Rounds, calls: list[str]
) -> None:
    # GIVEN an application delivered by Typeform and recorded
    payload = typeform_payload("tf-calls-1")
    assert deliver_typeform(payload).body["status"] == "recorded"
    # WHEN Typeform delivers it again
    calls.clear()
    again = deliver_typeform(payload)
    # THEN it is a duplicate, answered on one read of its round
    assert again.body["status"] == "duplicate"
    assert len(calls) == 1, calls
    assert calls[0] in STORE_READS


def test_a_standard_webhooks_redelivery_is_answered_duplicate_on_one_read(
    open_round: Rounds, calls: list[str]
) -> None:
    payload = {"type": "application.submitted", **application()}
    assert deliver_forms(payload, "msg_calls_1").body["status"] == "recorded"
    calls.clear()
    again = deliver_forms(payload, "msg_calls_1")
    assert again.body["status"] == "duplicate"
    assert len(calls) == 1, calls
    assert calls[0] in STORE_READS


def test_a_new_typeform_application_reads_its_round_once(
    open_round: Rounds, calls: list[str]
) -> None:
    # WHEN a new application arrives (its round named in the programme's hidden field)
    calls.clear()
    assert deliver_typeform(typeform_payload("tf-calls-2")).body["status"] == "recorded"
    # THEN its round was read first (to know a repeat) and not read again to record it
    assert calls[0] in STORE_READS
    reads = [c for c in calls if c in STORE_READS]
    # (the round, the form's stream: its mapping; a store whose tip lags reads its tail too)
    assert len(reads) <= 3, calls
    # AND each person's key was minted once: the contact's also seals the motivation
    keys = [c for c in calls if c.endswith(" keys") or c.startswith("kms.")]
    assert keys == ["dynamodb.GetItem keys", "kms.GenerateDataKey", "dynamodb.PutItem keys"] * 2
    assert calls[-1] == "dynamodb.TransactWriteItems"
    assert [type(e) for e in open_round.events()].count(AgencyApplied) == 1


def test_a_mapped_forms_redelivery_is_still_read_through_its_mapping(
    open_round: Rounds, calls: list[str]
) -> None:
    # GIVEN a builder form's delivery (its round in a hidden field of its own) recorded once
    # the form is mapped
    assert map_form(MAPPING).status == 200
    payload = builder_payload("tf-calls-3")
    assert deliver_typeform(payload).body["status"] == "recorded"
    # WHEN it is delivered again
    calls.clear()
    again = deliver_typeform(payload)
    # THEN it is a duplicate still, found through the mapping (the form's stream, then the round)
    assert again.body["status"] == "duplicate"
    assert len(calls) <= 3, calls
    assert set(calls) <= STORE_READS
    assert [type(e) for e in open_round.events(ROUND_ID)].count(AgencyApplied) == 1
