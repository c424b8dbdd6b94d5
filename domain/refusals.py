"""How a refused application is recorded, wherever it is kept (a round's stream, or a stream of
its own for a round that does not exist: `domain.streams.refusal_stream_id`): whatever the
sender sent, the refusal must be storable, and must not store personal data in clear."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from domain.commands import RefuseForUnknownRound
from domain.names import clean_name
from domain.org_number import could_be_personal_identity_number
from events import ApplicationRefused, Event, Source


def stored_rule_name(rule: str) -> str:
    """The broken guard's name as a 409 names it (`ensure_round_is_open`), made storable."""
    cleaned = re.sub(r"[^A-Za-z0-9_]", "", rule.strip()).lstrip("0123456789_")
    return cleaned[:80] or "unknown"


def org_number_as_given(raw: str) -> str:
    # A personal identity number typed in by mistake is personal data: never stored in clear.
    if could_be_personal_identity_number(raw):
        return "(withheld)"
    return raw.strip()[:40]


def refusal_event(
    *,
    org_number: str,
    agency_name: str,
    rule: str,
    reason: str,
    source: Source,
    delivery_id: str | None,
    requested_round_id: str | None = None,
) -> ApplicationRefused:
    return ApplicationRefused(
        org_number=org_number_as_given(org_number),
        agency_name=clean_name(agency_name)[:200],
        requested_round_id=requested_round_id[:80] if requested_round_id else None,
        rule=stored_rule_name(rule),
        reason=reason[:500],
        source=source,
        delivery_id=delivery_id,
    )


def decide_refusal_for_unknown_round(
    command: RefuseForUnknownRound, recorded: bool | None, now: datetime
) -> Sequence[Event]:
    """One refusal per delivery: its stream holds it once, so a retried delivery decides nothing."""
    if recorded:
        return []
    return [
        refusal_event(
            org_number=command.org_number,
            agency_name=command.agency_name,
            rule=command.rule,
            reason=command.reason,
            source=command.source,
            delivery_id=command.delivery_id,
            requested_round_id=command.requested_round_id,
        )
    ]


def evolve_refusal(recorded: bool | None, event: Event) -> bool:
    """A refusal stream's state: whether its refusal is recorded."""
    return bool(recorded) or isinstance(event, ApplicationRefused)
