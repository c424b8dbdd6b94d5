"""Every AWS call a function's code makes is one its template grants allow, as IAM decides.

The local stack runs the real handlers; this test records, per function, each call their
botocore clients make while round 3 of 2015 is walked through the HTTP API to closed, a
builder's form delivery is held and taken up, a new round opens and is cancelled, the reports
are read and an applicant is erased. Each call is turned into the IAM requests AWS would
authorise (`tests/support/iam.py`: one per action of a transaction, with
`dynamodb:EnclosingOperation`; attribute lists; the KMS encryption context) and evaluated
against that function's statements in template.yaml. A grant too narrow for the code fails
here before it fails on AWS; `tests/infra/test_template.py` pins that no grant is wider.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import botocore.client
import pytest

from infra.vault import application_subject_id, held_delivery_subject_id
from programme.client import ApiClient
from programme.round3 import data as r3
from programme.round3.loader import Round3Loader
from programme.stack.clock import DemoClock
from programme.stack.environment import webhook_secrets
from programme.stack.functions import LocalFunction
from programme.stack.stack import LocalStack, StackInfo
from programme.template import load_template
from tests.domain.given import THEMES
from tests.e2e.targets import poll_until
from tests.functions.test_form_mapping import FORM, MAPPING, builder_payload
from tests.support import iam

Recorded = list[tuple[str, str, str, dict[str, Any]]]
_current = threading.local()
ROUND_ID = f"iam-{uuid.uuid4().hex[:8]}"
HELD = "iam-held-0001"


@pytest.fixture(scope="module")
def recorded() -> Iterator[tuple[Recorded, StackInfo]]:
    calls: Recorded = []
    invoke = LocalFunction.__call__
    make_api_call = botocore.client.BaseClient._make_api_call  # type: ignore[attr-defined]

    def as_function(self: LocalFunction, event: Any, context: Any) -> Any:
        outer = getattr(_current, "function", None)
        _current.function = self.logical_id
        try:
            return invoke(self, event, context)
        finally:
            _current.function = outer

    def recording(client: Any, operation: str, params: dict[str, Any]) -> Any:
        function = getattr(_current, "function", None)
        if function is not None:
            service = client.meta.service_model.service_name
            calls.append((function, service, operation, params))
        return make_api_call(client, operation, params)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(LocalFunction, "__call__", as_function)
        patch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
        clock = DemoClock(r3.SCHEDULED_ON)
        stack = LocalStack(port=0, clock=clock, secrets=webhook_secrets({}))
        info = stack.start()
        try:
            api = ApiClient(info.api_url, info.secrets)
            Round3Loader(api, clock).load()
            clock.follow_wall_clock()
            _walk_the_rest(api, info)
            yield calls, info
        finally:
            stack.stop()


def _walk_the_rest(api: ApiClient, info: StackInfo) -> None:
    """What round 3's walk does not do: a held delivery taken up, an erasure, the reports."""
    round_id = ROUND_ID
    scheduled = api.staff(
        "POST",
        "/rounds",
        {
            "round_id": round_id,
            "number": 901,
            "title": "Omgång för behörighetsprovet",
            "capacity": 12,
            "themes": list(THEMES),
            "application_opens_at": "2001-01-01T09:00:00Z",
            "application_closes_at": "2099-01-01T17:00:00Z",
            "starts_at": "2099-02-01T09:00:00Z",
            "plan_due_at": "2099-06-01T17:00:00Z",
            "closes_at": "2099-12-01T17:00:00Z",
        },
    )
    assert scheduled.status == 201, scheduled.text

    def state() -> str | None:
        reply = api.request("GET", f"/rounds/{round_id}")
        return str(reply.json()["state"]) if reply.status == 200 else None

    poll_until(lambda: state() == "open", f"the state machine opened {round_id}", timeout=60)
    held = builder_payload(HELD)
    held["form_response"]["hidden"] = {"omgang": round_id}
    assert api.typeform(held).json()["status"] == "refused"
    form_id = held["form_response"]["form_id"]
    assert api.staff("PUT", f"/forms/{form_id}/mapping", {"fields": MAPPING}).status == 200
    taken = api.staff("POST", f"/forms/{form_id}/take-up", {})
    assert taken.status == 200, taken.text
    poll_until(lambda: _applied(api, round_id), "the taken-up application", timeout=30)
    contact = application_subject_id("typeform", round_id, HELD, "contact")
    erasure = {"retention_decision": "Gallring enligt beslut 2026:1"}
    assert api.staff("POST", f"/subjects/{contact}/erasure", erasure).status == 202
    for path in (
        "/rounds",
        "/refusals",
        "/reports/participation.csv",
        f"/agencies/{r3.AGENCIES[0].org_number}",
    ):
        assert api.request("GET", path).status == 200, path
    assert api.staff("POST", f"/rounds/{round_id}/cancel", {"reason": "provet klart"}).status == 200
    poll_until(lambda: state() == "cancelled", f"{round_id} cancelled", timeout=30)


def _applied(api: ApiClient, round_id: str) -> bool:
    events = api.request("GET", f"/rounds/{round_id}/events").json()["events"]
    return any(e["type"] == "AgencyApplied" for e in events)


def test_every_call_the_functions_make_is_allowed_by_their_grants(
    recorded: tuple[Recorded, StackInfo],
) -> None:
    calls, info = recorded
    names = iam.Names(info.tables, info.personal_data_key_id, info.state_machine_arn, info.queues)
    resources = load_template()["Resources"]
    # THEN every function that ran made calls, and each of them is allowed
    denials = {
        f"{function}: {request.describe()}"
        for function, service, operation, params in calls
        for request in iam.requests_of(service, operation, params, names)
        if iam.denied(function, resources, request)
    }
    assert not denials, "\n".join(sorted(denials))
    ran = {function for function, *_ in calls}
    assert {"IntakeFunction", "CommandsFunction", "QueriesFunction", "ProjectorFunction"} <= ran
    assert {"ApplyTransitionFunction", "NextTransitionFunction", "LifecycleStarterFunction"} <= ran


def test_the_walk_made_the_calls_the_append_only_grants_are_about(
    recorded: tuple[Recorded, StackInfo],
) -> None:
    calls, _ = recorded
    made = {(f, s, o) for f, s, o, _ in calls}
    # THEN appends were transactions, keys were minted and unwrapped, an erasure tombstoned
    for function in ("IntakeFunction", "CommandsFunction", "ApplyTransitionFunction"):
        assert (function, "dynamodb", "TransactWriteItems") in made, function
    assert ("IntakeFunction", "kms", "GenerateDataKey") in made
    assert ("CommandsFunction", "kms", "Decrypt") in made  # the held delivery opened
    assert ("CommandsFunction", "kms", "GenerateDataKey") in made  # its application sealed
    tombstones = [
        params["Item"]
        for function, _, operation, params in calls
        if (function, operation) == ("CommandsFunction", "PutItem")
        and "erased_at" in params["Item"]
    ]
    # (the erased applicant, and the held copy's key once its delivery was taken up)
    assert sorted(item["subject_id"]["S"] for item in tombstones) == sorted(
        [
            application_subject_id("typeform", ROUND_ID, HELD, "contact"),
            held_delivery_subject_id("typeform", FORM, HELD),
        ]
    )
