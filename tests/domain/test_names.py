"""An agency's name is stored as people see it: no control, zero-width or bidi characters."""

from __future__ import annotations

import pytest

from domain import InvalidAgencyNameError, decide
from events import AgencyApplied, Event
from tests.domain.given import DURING_APPLICATIONS, SKATTEVERKET, apply, given, open_round

HIDDEN = {
    "zero-width space": "Skatte\u200bverket",
    "zero-width joiner and BOM": "\ufeffSkatte\u200dverket",
    "bidi override": "\u202eSkatteverket\u202c",
    "bidi isolate": "\u2066Skatteverket\u2069",
    "line break and tab": "Skatte\nverket\t",
    "NUL": "Skatte\x00verket",
}


def applying(name: str) -> list[Event]:
    return decide(apply(SKATTEVERKET, agency_name=name), given(*open_round()), DURING_APPLICATIONS)


@pytest.mark.parametrize("raw", HIDDEN.values(), ids=HIDDEN.keys())
def test_invisible_characters_are_removed_from_the_stored_name(raw: str) -> None:
    # GIVEN an open round / WHEN an agency applies with invisible characters in its name
    (event,) = decide(
        apply(SKATTEVERKET, agency_name=raw), given(*open_round()), DURING_APPLICATIONS
    )
    # THEN the name is stored as it shows, whitespace folded, nothing hidden in it
    assert isinstance(event, AgencyApplied)
    assert event.agency_name in {"Skatteverket", "Skatte verket"}
    assert all(c.isprintable() for c in event.agency_name)


def test_a_name_of_nothing_visible_is_refused() -> None:
    with pytest.raises(InvalidAgencyNameError, match="no visible characters"):
        decide(
            apply(SKATTEVERKET, agency_name="\u200b\u202e "),
            given(*open_round()),
            DURING_APPLICATIONS,
        )


def test_the_same_name_typed_two_ways_is_stored_alike() -> None:
    # GIVEN "Länsstyrelsen" with a precomposed ä, and with a plus a combining diaeresis
    composed, decomposed = "Länsstyrelsen", "La\u0308nsstyrelsen"
    state = given(*open_round())
    names = [
        decide(apply(SKATTEVERKET, agency_name=n), state, DURING_APPLICATIONS)[0]
        for n in (composed, decomposed)
    ]
    # THEN both are stored in one form (NFC)
    assert [e.agency_name for e in names if isinstance(e, AgencyApplied)] == [composed, composed]
