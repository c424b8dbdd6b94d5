"""Events about personal data itself."""

from __future__ import annotations

from typing import Literal

from events.base import DomainEvent, ShortText, SubjectId


class PersonalDataErased(DomainEvent):
    """A subject's data key was destroyed; every ciphertext for them is now unreadable."""

    type: Literal["PersonalDataErased"] = "PersonalDataErased"
    schema_version: Literal[1] = 1
    subject_id: SubjectId
    retention_decision: ShortText
