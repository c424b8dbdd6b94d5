"""Where each kind of decision is kept: the one place a stream id is spelled.

- `round-<round id>`: a round's whole life (its schedule, applications, pairs, plans).
- `subject-<subject id>`: one person's personal data (its erasure).
- `refusal-<digest>`: an application refused because its round does not exist. A round's own
  refusals live in its stream, but an unknown round has none; each such refusal gets a stream
  of its own, keyed by what identifies the delivery (its source, the round it asked for and
  its id), so a retried delivery finds its refusal and decides nothing, and no stream grows
  with the number of refusals. The digest keeps a sender's id, of any length or alphabet, out
  of the key.
- `form-<provider>-<form id>`: one form tool form's field mapping, and the deliveries it holds
  until they can be read (`domain.forms`).
- `intake-refusals`: where such refusals were kept before, all on one stream; still read by
  the read models, never written.
"""

from __future__ import annotations

import hashlib
from typing import Final

ROUND_PREFIX: Final = "round-"
SUBJECT_PREFIX: Final = "subject-"
REFUSAL_PREFIX: Final = "refusal-"
FORM_PREFIX: Final = "form-"
LEGACY_REFUSALS_STREAM: Final = "intake-refusals"


def round_stream_id(round_id: str) -> str:
    """The stream that holds a round's events."""
    return f"{ROUND_PREFIX}{round_id}"


def round_id_of(stream_id: str) -> str | None:
    """The round a stream belongs to (`round-<id>`), or None for any other stream."""
    if stream_id.startswith(ROUND_PREFIX) and len(stream_id) > len(ROUND_PREFIX):
        return stream_id.removeprefix(ROUND_PREFIX)
    return None


def subject_stream_id(subject_id: str) -> str:
    """The stream that holds what was decided about one person's personal data."""
    return f"{SUBJECT_PREFIX}{subject_id}"


def refusal_stream_id(source: str, requested_round_id: str, delivery_id: str) -> str:
    """The stream of one delivery refused for a round that does not exist."""
    key = "\x1f".join((source, requested_round_id, delivery_id)).encode("utf-8")
    return f"{REFUSAL_PREFIX}{hashlib.sha256(key).hexdigest()[:40]}"


def form_stream_id(provider: str, form_id: str) -> str:
    """The stream of one form's mapping and held deliveries (`form_id`: `[A-Za-z0-9_-]`)."""
    return f"{FORM_PREFIX}{provider}-{form_id}"
