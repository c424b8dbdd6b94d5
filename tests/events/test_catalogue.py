"""The event models: round trips, immutability, upcasting, and no personal data in clear."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import jsonschema  # type: ignore[import-untyped]  # no stubs in the lock; only validate() is used
import pydantic
import pytest

from events import (
    EVENT_TYPES,
    AgencyApplied,
    Event,
    RoundScheduled,
    SealedPersonalData,
    UnknownEventTypeError,
    UnsupportedSchemaVersionError,
    event_from_json,
    event_to_json,
)
from events.schema_export import SCHEMA_DIR
from tests.support.event_examples import EXAMPLES, sealed


def test_there_is_an_example_of_every_event_type() -> None:
    assert set(EXAMPLES) == set(EVENT_TYPES)
    assert len(EVENT_TYPES) >= 21


@pytest.mark.parametrize("event", EXAMPLES.values(), ids=EXAMPLES.keys())
def test_every_event_round_trips_through_stored_json(event: Event) -> None:
    # GIVEN an event encoded as it is stored (JSON text)
    stored = json.dumps(event_to_json(event))
    # WHEN it is read back
    loaded = event_from_json(json.loads(stored))
    # THEN it is the same event, of the same class
    assert loaded == event
    assert type(loaded) is type(event)


@pytest.mark.parametrize("event", EXAMPLES.values(), ids=EXAMPLES.keys())
def test_stored_json_validates_against_the_checked_in_schema(event: Event) -> None:
    schema = json.loads((SCHEMA_DIR / f"{event.type}.v{event.schema_version}.json").read_text())
    jsonschema.validate(event_to_json(event), schema)


def test_events_are_immutable() -> None:
    event = EXAMPLES["RoundCancelled"]
    with pytest.raises(pydantic.ValidationError):
        event.reason = "changed"  # type: ignore[misc, union-attr]


def test_an_old_stored_agency_applied_v1_loads_as_the_current_version() -> None:
    # GIVEN an AgencyApplied stored as v1, when the form had a single-select theme
    stored_v1 = {
        "type": "AgencyApplied",
        "schema_version": 1,
        "org_number": "202100-4870",
        "agency_name": "Fastighetsmäklarinspektionen",
        "director_general": sealed(7).model_dump(),
        "contact": sealed(8).model_dump(),
        "theme": "digitalisering",
        "preferred_partner": None,
        "motivation": None,
        "submitted_at": "2015-01-20T10:00:00Z",
        "source": "typeform",
        "delivery_id": "tf-legacy-1",
    }
    v1_schema = json.loads((SCHEMA_DIR / "AgencyApplied.v1.json").read_text())
    jsonschema.validate(stored_v1, v1_schema)
    # WHEN it is read
    event = event_from_json(stored_v1)
    # THEN it is a current AgencyApplied with the theme as a one-element list, nothing lost
    assert isinstance(event, AgencyApplied)
    assert event.schema_version == 3
    assert event.themes == ("digitalisering",)
    assert event.agency_name == "Fastighetsmäklarinspektionen"
    assert event.submitted_at == datetime(2015, 1, 20, 10, tzinfo=UTC)


def test_a_stored_v2_motivation_in_clear_reads_as_unsealed_not_as_sealed() -> None:
    # GIVEN an AgencyApplied stored as v2, its motivation in clear
    stored_v2 = event_to_json(EXAMPLES["AgencyApplied"]) | {
        "schema_version": 2,
        "motivation": "Ring Kim på 070-123 45 67",
    }
    stored_v2.pop("unsealed_motivation")
    v2_schema = json.loads((SCHEMA_DIR / "AgencyApplied.v2.json").read_text())
    jsonschema.validate(stored_v2, v2_schema)
    # WHEN it is read
    event = event_from_json(stored_v2)
    # THEN the clear text keeps its meaning under the name that says what it is, and nothing
    # pretends it is sealed
    assert isinstance(event, AgencyApplied)
    assert (event.schema_version, event.motivation) == (3, None)
    assert event.unsealed_motivation == "Ring Kim på 070-123 45 67"


def test_a_current_motivation_is_sealed_data() -> None:
    # GIVEN / WHEN a current AgencyApplied with its motivation in clear text
    applied = event_to_json(EXAMPLES["AgencyApplied"])
    # THEN it does not validate: v3 takes only sealed data there
    with pytest.raises(pydantic.ValidationError):
        event_from_json(applied | {"motivation": "Ring Kim på 070-123 45 67"})


def test_an_unknown_event_type_is_refused_by_name() -> None:
    with pytest.raises(UnknownEventTypeError, match="RoundExploded"):
        event_from_json({"type": "RoundExploded", "schema_version": 1})


def test_a_version_newer_than_the_code_is_refused() -> None:
    stored = event_to_json(EXAMPLES["RoundCancelled"]) | {"schema_version": 9}
    with pytest.raises(UnsupportedSchemaVersionError, match="newer"):
        event_from_json(stored)


def test_personal_data_cannot_be_stored_in_clear() -> None:
    applied = event_to_json(EXAMPLES["AgencyApplied"])
    # a plain name where sealed data belongs
    with pytest.raises(pydantic.ValidationError):
        event_from_json(applied | {"director_general": "Katrin Westling Palm"})
    # clear-text fields smuggled into the sealed value
    with pytest.raises(pydantic.ValidationError):
        SealedPersonalData.model_validate(
            sealed(1).model_dump() | {"email": "someone@skatteverket.se"}
        )
    # ciphertext that is not ciphertext
    with pytest.raises(pydantic.ValidationError):
        SealedPersonalData(subject_id=sealed(1).subject_id, ciphertext="someone@skatteverket.se")


def test_timestamps_without_a_time_zone_are_refused() -> None:
    data = event_to_json(EXAMPLES["RoundScheduled"]) | {"starts_at": "2015-03-02T00:00:00"}
    with pytest.raises(pydantic.ValidationError, match="time zone"):
        RoundScheduled.model_validate(data)


def test_organisation_numbers_are_stored_with_the_hyphen() -> None:
    data = event_to_json(EXAMPLES["AgencyAdmitted"]) | {"org_number": "2021005448"}
    with pytest.raises(pydantic.ValidationError):
        event_from_json(data)
