"""What every event shares: a frozen pydantic model with a `type` literal and a `schema_version`."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

ORG_NUMBER_PATTERN = r"^\d{6}-\d{4}$"
SUBJECT_ID_PATTERN = r"^subj-[0-9a-f]{32}$"
SHA256_PATTERN = r"^[0-9a-f]{64}$"
_BASE64 = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")


def _require_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("timestamps must carry a time zone (UTC)")
    return value.astimezone(UTC)


UtcDateTime = Annotated[datetime, AfterValidator(_require_utc)]
"""A timezone-aware instant, normalised to UTC."""

OrgNumber = Annotated[str, StringConstraints(pattern=ORG_NUMBER_PATTERN)]
"""A Swedish organisation number in its stored form NNNNNN-NNNN (shape only; the check digit
is a domain rule, so a tightened rule never breaks replay of old streams)."""

RoundId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
PairId = Annotated[str, StringConstraints(pattern=r"^pair-[a-z0-9-]{1,40}$")]
SubjectId = Annotated[str, StringConstraints(pattern=SUBJECT_ID_PATTERN)]
Sha256Hex = Annotated[str, StringConstraints(pattern=SHA256_PATTERN)]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
LongText = Annotated[str, StringConstraints(max_length=4000)]
Theme = Annotated[str, StringConstraints(min_length=1, max_length=80, strip_whitespace=True)]
Url = Annotated[str, StringConstraints(pattern=r"^https://\S{1,2000}$")]
Count = Annotated[int, Field(ge=0)]


def _require_base64(value: str) -> str:
    if not _BASE64.match(value):
        raise ValueError("ciphertext must be base64")
    return value


class SealedPersonalData(BaseModel):
    """Personal data as an event may hold it: a subject reference plus ciphertext.

    The clear text (a name, an e-mail address) is encrypted under the subject's own data key
    before it reaches an event; destroying that key erases the person (crypto-shredding) while
    the event stays replayable. There is deliberately no field that can hold clear text.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    subject_id: SubjectId
    algorithm: Annotated[str, StringConstraints(pattern=r"^AES-256-GCM$")] = "AES-256-GCM"
    ciphertext: Annotated[
        str, StringConstraints(min_length=16, max_length=8000), AfterValidator(_require_base64)
    ]


class SealedDelivery(SealedPersonalData):
    """A whole delivery sealed as it came (up to the intake's 256 KB, base64 adds a third):
    kept until staff can read it into an application, then its key is destroyed."""

    ciphertext: Annotated[
        str, StringConstraints(min_length=16, max_length=360_000), AfterValidator(_require_base64)
    ]


class DomainEvent(BaseModel):
    """Base of every event type; subclasses pin `type` and `schema_version` with literals."""

    model_config = ConfigDict(frozen=True, extra="forbid")
