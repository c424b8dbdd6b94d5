"""Reading stored events of any version: the one place that knows old schema versions.

An upcaster turns the JSON of version N of a type into the JSON of version N + 1; reading
applies them in a chain until the current model's version, then validates.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from events.catalogue import EVENT_ADAPTER, EVENT_TYPES, Event

JsonObject = dict[str, Any]
Upcaster = Callable[[JsonObject], JsonObject]


class UnknownEventTypeError(ValueError):
    """A stored event names a type this code does not know."""


class UnsupportedSchemaVersionError(ValueError):
    """A stored event's version has no upcaster path to the current model."""


def _agency_applied_v1_to_v2(data: JsonObject) -> JsonObject:
    # v1 (Typeform single-select) held one `theme`; v2 holds `themes`, a list.
    upgraded = {key: value for key, value in data.items() if key != "theme"}
    upgraded["themes"] = [data["theme"]]
    upgraded["schema_version"] = 2
    return upgraded


def _agency_applied_v2_to_v3(data: JsonObject) -> JsonObject:
    # v2 held `motivation` in clear; v3 seals it. What a v2 event holds in clear stays what it
    # was, named for what it is: no key can be applied to it after the fact, and an erasure
    # cannot reach it (staff remove such events' text only by a store migration).
    upgraded = {key: value for key, value in data.items() if key != "motivation"}
    upgraded["unsealed_motivation"] = data.get("motivation")
    upgraded["schema_version"] = 3
    return upgraded


UPCASTERS: Final[Mapping[tuple[str, int], Upcaster]] = {
    ("AgencyApplied", 1): _agency_applied_v1_to_v2,
    ("AgencyApplied", 2): _agency_applied_v2_to_v3,
}


def current_version(event_type: str) -> int:
    """The schema version this code writes for `event_type`."""
    try:
        model = EVENT_TYPES[event_type]
    except KeyError:
        raise UnknownEventTypeError(f"unknown event type {event_type!r}") from None
    version: int = model.model_fields["schema_version"].default
    return version


def upcast(data: Mapping[str, Any]) -> JsonObject:
    """Bring a stored event's JSON up to its type's current schema version."""
    event_type = str(data.get("type"))
    target = current_version(event_type)
    upgraded = dict(data)
    version = int(upgraded.get("schema_version", 1))
    while version < target:
        step = UPCASTERS.get((event_type, version))
        if step is None:
            raise UnsupportedSchemaVersionError(
                f"no upcaster for {event_type} v{version} (current is v{target})"
            )
        upgraded = step(upgraded)
        version = int(upgraded["schema_version"])
    if version != target:
        raise UnsupportedSchemaVersionError(
            f"{event_type} v{version} is newer than this code's v{target}"
        )
    return upgraded


def event_from_json(data: Mapping[str, Any]) -> Event:
    """Decode a stored event payload of any known version into the current model."""
    return EVENT_ADAPTER.validate_python(upcast(data))


def event_to_json(event: Event) -> JsonObject:
    """Encode an event payload for storage (JSON-compatible types only)."""
    encoded: JsonObject = event.model_dump(mode="json")
    return encoded
