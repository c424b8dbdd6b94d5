"""Signed deliveries from the registration forms, end to end, on the local or a deployed stack."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.domain.given import (
    FASTIGHETSMAKLARINSPEKTIONEN,
    KRIMINALVARDEN,
    KUSTBEVAKNINGEN,
    SKATTEVERKET,
    UHR,
)
from tests.e2e.conftest import FIGURES
from tests.e2e.targets import Reply, Target, poll_until
from tests.functions.http import application, standard_headers, typeform_payload, typeform_signature

READ_MODEL_BOUND_SECONDS = 5.0
"""The bound on a projection's delay the tests hold to; they record what they observe."""


def deliver_typeform(
    target: Target, payload: dict[str, Any], *, secret: str | None = None, signed: bool = True
) -> Reply:
    body = json.dumps(payload).encode()
    headers = {"content-type": "application/json"}
    if signed:
        headers["Typeform-Signature"] = typeform_signature(body, secret or target.secrets.typeform)
    return target.request("POST", "/webhooks/typeform", body, headers)


def deliver_forms(
    target: Target,
    payload: dict[str, Any],
    webhook_id: str,
    *,
    secret: str | None = None,
    at: datetime | None = None,
) -> Reply:
    body = json.dumps(payload).encode()
    signed = standard_headers(body, webhook_id, at=at, secret=secret or target.secrets.forms)
    headers = {"content-type": "application/json", **signed}
    return target.request("POST", "/webhooks/forms", body, headers)


def applied(target: Target, round_id: str) -> int:
    return int(target.get(f"/rounds/{round_id}").json()["applied"])


def trail(target: Target, round_id: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = target.get(f"/rounds/{round_id}/events").json()["events"]
    return events


def test_a_new_signed_application_reaches_the_round_within_the_bound(
    target: Target, open_round: str, record_property: Callable[[str, object], None]
) -> None:
    # GIVEN an open round, and how many applied so far
    before = applied(target, open_round)

    # WHEN a new agency's application is delivered by Typeform, signed
    payload = typeform_payload(
        f"tf-latency-{open_round}",
        round_id=open_round,
        org_number=KUSTBEVAKNINGEN,
        agency_name="Kustbevakningen",
    )
    reply = deliver_typeform(target, payload)
    latency = poll_until(
        lambda: applied(target, open_round) == before + 1,
        "the round's read model counts the application",
        timeout=READ_MODEL_BOUND_SECONDS,
    )

    # THEN it was recorded, and the round's read model shows it within the bound
    assert reply.status == 202, reply.text
    assert reply.json()["status"] == "recorded"
    record_property("application_to_read_model_seconds", round(latency, 3))
    FIGURES.append(f"{target.name}: a signed application reached /rounds/{{id}} in {latency:.3f} s")


def test_a_repeated_delivery_is_answered_duplicate_and_records_nothing_new(
    target: Target, open_round: str
) -> None:
    # GIVEN one application delivered by Typeform and one by a Standard Webhooks form tool
    typeform = typeform_payload(
        f"tf-twice-{open_round}",
        round_id=open_round,
        org_number=SKATTEVERKET,
        agency_name="Skatteverket",
    )
    forms = {
        "type": "application.submitted",
        **application(
            round_id=open_round, org_number=FASTIGHETSMAKLARINSPEKTIONEN, agency_name="FMI"
        ),
    }
    version_before = len(trail(target, open_round))
    first = [
        deliver_typeform(target, typeform),
        deliver_forms(target, forms, f"msg_twice_{open_round}"),
    ]

    # WHEN each is delivered again (a sender retrying)
    again = [
        deliver_typeform(target, typeform),
        deliver_forms(target, forms, f"msg_twice_{open_round}"),
    ]

    # THEN the first deliveries were recorded, the repeats answered duplicate
    assert [(r.status, r.json()["status"]) for r in first] == [(202, "recorded")] * 2
    assert [(r.status, r.json()["status"]) for r in again] == [(202, "duplicate")] * 2
    # AND nothing new was recorded: once a later delivery shows, the trail holds just three
    marker = typeform_payload(
        f"tf-marker-{open_round}", round_id=open_round, org_number=UHR, agency_name="UHR"
    )
    assert deliver_typeform(target, marker).json()["status"] == "recorded"
    poll_until(
        lambda: len(trail(target, open_round)) >= version_before + 3,
        "the marker application shows in the audit trail",
        timeout=READ_MODEL_BOUND_SECONDS,
    )
    new = trail(target, open_round)[version_before:]
    assert [entry["type"] for entry in new] == ["AgencyApplied"] * 3


OTHER_SECRET = "whsec_QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="


def badly_signed(target: Target, how: str, round_id: str) -> Reply:
    typeform = typeform_payload(f"tf-bad-{how}", round_id=round_id, org_number=KRIMINALVARDEN)
    forms = {
        "type": "application.submitted",
        **application(round_id=round_id, org_number=KRIMINALVARDEN),
    }
    if how == "typeform-wrong-secret":
        return deliver_typeform(target, typeform, secret="not-the-secret")
    if how == "typeform-unsigned":
        return deliver_typeform(target, typeform, signed=False)
    if how == "forms-wrong-secret":
        return deliver_forms(target, forms, "msg_bad_secret", secret=OTHER_SECRET)
    assert how == "forms-stale"
    stale = datetime.now(UTC) - timedelta(minutes=10)
    return deliver_forms(target, forms, "msg_bad_stale", at=stale)


@pytest.mark.parametrize(
    "how", ["typeform-wrong-secret", "typeform-unsigned", "forms-wrong-secret", "forms-stale"]
)
def test_a_delivery_with_a_missing_wrong_or_stale_signature_is_refused_401(
    target: Target, open_round: str, how: str
) -> None:
    # GIVEN an application for an open round, WHEN it is delivered badly signed
    reply = badly_signed(target, how, open_round)

    # THEN it is refused as unauthenticated, with a problem document
    assert reply.status == 401
    assert reply.headers["content-type"].startswith("application/problem+json")
    assert reply.json()["title"] == "Unauthorized"
