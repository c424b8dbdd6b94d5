"""How a refused application is recorded, wherever it is kept (a round's stream, or
`intake-refusals` for a round that does not exist): whatever the sender sent, the refusal
must be storable, and must not store personal data in clear."""

from __future__ import annotations

import re

from domain.org_number import could_be_personal_identity_number
from events import ApplicationRefused, Source


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
        agency_name=agency_name.strip()[:200],
        requested_round_id=requested_round_id[:80] if requested_round_id else None,
        rule=stored_rule_name(rule),
        reason=reason[:500],
        source=source,
        delivery_id=delivery_id,
    )
