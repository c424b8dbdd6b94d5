"""Whatever a correctly signed sender puts in a delivery, the answer is never a server error:
the form's fields replaced by any JSON, answers of any shape, any body at all."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.domain.given import ESV
from tests.functions.http import application, deliver_forms, deliver_typeform, typeform_payload
from tests.functions.rounds import Rounds

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=10,
)
EDGE_VALUES = st.sampled_from(
    [
        *("", " ", "x" * 81, "x" * 201, "x" * 4001, "2031-9", "ÅÄÖ\u0000", ESV, "19121212-1212"),
        *("2026-05-01T10:00:00Z", "2026-05-01T10:00:00", "9999-12-31T23:59:59-12:00"),
        *(0, -1, 2**70, 1.5, True, None, [], {}, ["x" * 81], ["digitalisering"] * 30),
        {"labels": 5, "other": "x"},
        {"label": None},
    ]
)
VALUES = EDGE_VALUES | JSON_VALUES
FIELDS = [*application(), "type", "submitted_at", "pair_id", "document_sha256"]


@st.composite
def forms_bodies(draw: st.DrawFn) -> Any:
    if draw(st.booleans()):
        return draw(VALUES)
    kind = draw(st.sampled_from(["application.submitted", "plan.submitted"]))
    changes = draw(st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=2))
    return {"type": kind, **application(), "title": "Plan", **changes}


@st.composite
def typeform_bodies(draw: st.DrawFn) -> Any:
    payload = typeform_payload(draw(st.text(min_size=1, max_size=20)))
    answers = payload["form_response"]["answers"]
    for _ in range(draw(st.integers(0, 2))):
        answer = answers[draw(st.integers(0, len(answers) - 1))]
        key = draw(st.sampled_from(["type", "field", "text", "email", "choices", "choice"]))
        answer[key] = draw(VALUES)
    if draw(st.integers(0, 4)) == 0:
        where = draw(st.sampled_from(["event_id", "event_type", "form_response", "hidden"]))
        target = payload["form_response"] if where == "hidden" else payload
        target[where] = draw(VALUES)
    return payload


SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(body=forms_bodies(), webhook_id=st.text(min_size=1, max_size=30).filter(str.strip))
def test_no_signed_forms_delivery_causes_a_500(
    open_round: Rounds, body: Any, webhook_id: str
) -> None:
    reply = deliver_forms(json.dumps(body).encode(), webhook_id.strip())
    assert reply.status in (202, 400, 401), (body, reply.body)


@SETTINGS
@given(body=typeform_bodies())
def test_no_signed_typeform_delivery_causes_a_500(open_round: Rounds, body: Any) -> None:
    reply = deliver_typeform(json.dumps(body).encode())
    assert reply.status in (202, 400), (body, reply.body)
