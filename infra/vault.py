"""Personal-data vault: seals a person's data under their own key (crypto-shredding).

Each subject has a 256-bit data key; their names and e-mail addresses are encrypted with
AES-256-GCM (the subject id as associated data, so a ciphertext cannot be moved to another
subject) before they enter an event. Destroying the key erases the person everywhere at
once while the event log stays intact and replayable.

This keyring keeps keys in memory; the KMS-backed keyring for AWS replaces it behind the
same `Keyring` protocol.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
import uuid
from collections.abc import Sequence
from typing import Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from events import SealedDelivery, SealedPersonalData

_NONCE_BYTES = 12


class SubjectErasedError(LookupError):
    """The subject's key was destroyed: their data can no longer be read."""


class Keyring(Protocol):
    def key_for(self, subject_id: str) -> bytes:
        """The subject's data key, created on first use."""

    def existing_key(self, subject_id: str) -> bytes | None:
        """The subject's data key, or None when it never existed or was destroyed."""

    def destroy(self, subject_id: str) -> None:
        """Destroy the subject's data key for good."""


class InMemoryKeyring:
    def __init__(self) -> None:
        self._keys: dict[str, bytes] = {}
        self._erased: set[str] = set()
        self._lock = threading.Lock()

    def key_for(self, subject_id: str) -> bytes:
        with self._lock:
            if subject_id in self._erased:
                raise SubjectErasedError(subject_id)
            return self._keys.setdefault(subject_id, AESGCM.generate_key(bit_length=256))

    def existing_key(self, subject_id: str) -> bytes | None:
        with self._lock:
            return self._keys.get(subject_id)

    def destroy(self, subject_id: str) -> None:
        with self._lock:
            self._keys.pop(subject_id, None)
            self._erased.add(subject_id)


def new_subject_id() -> str:
    return f"subj-{uuid.uuid4().hex}"


def derived_subject_id(*parts: str) -> str:
    """A subject id fixed by its parts (say a delivery id and a role): a retried delivery
    seals under the same subject instead of leaving an orphan key behind."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    return f"subj-{digest[:32]}"


def application_subject_id(source: str, round_id: str, delivery_id: str, role: str) -> str:
    """The subject of one person (`role`) in one delivered application: fixed by the delivery's
    identity in its round (a retry seals under the same subject), and never the same for the
    same sender's id from another source or in another round."""
    return derived_subject_id("application", source, round_id, delivery_id, role)


def held_delivery_subject_id(provider: str, form_id: str, delivery_id: str) -> str:
    """The subject of a delivery held whole until it can be read (`events.DeliveryHeld`): fixed
    by the delivery's identity on its form, so a redelivery seals under the same key."""
    return derived_subject_id("held-delivery", provider, form_id, delivery_id)


class PersonalDataVault:
    """Seals and opens personal data; the only code that sees it in clear."""

    def __init__(self, keyring: Keyring) -> None:
        self._keyring = keyring

    def seal(self, subject_id: str, data: dict[str, str]) -> SealedPersonalData:
        (sealed,) = self.seal_each(subject_id, [data])
        return sealed

    def seal_each(
        self, subject_id: str, records: Sequence[dict[str, str]]
    ) -> list[SealedPersonalData]:
        """Several records of one subject, each sealed on its own, the key fetched once."""
        key = AESGCM(self._keyring.key_for(subject_id))
        sealed: list[SealedPersonalData] = []
        for data in records:
            nonce = os.urandom(_NONCE_BYTES)
            plaintext = json.dumps(data, ensure_ascii=False, sort_keys=True).encode()
            ciphertext = key.encrypt(nonce, plaintext, subject_id.encode())
            sealed.append(
                SealedPersonalData(
                    subject_id=subject_id,
                    ciphertext=base64.b64encode(nonce + ciphertext).decode(),
                )
            )
        return sealed

    def seal_delivery(self, subject_id: str, body: bytes) -> SealedDelivery:
        """A whole delivery's bytes, sealed as they came (no JSON around them to escape)."""
        key = self._keyring.key_for(subject_id)
        nonce = os.urandom(_NONCE_BYTES)
        ciphertext = AESGCM(key).encrypt(nonce, body, subject_id.encode())
        return SealedDelivery(
            subject_id=subject_id, ciphertext=base64.b64encode(nonce + ciphertext).decode()
        )

    def open_delivery(self, sealed: SealedDelivery) -> bytes:
        """The delivery's bytes; raises SubjectErasedError once its key is destroyed."""
        return self._decrypt(sealed)

    def open(self, sealed: SealedPersonalData) -> dict[str, str]:
        """The clear data; raises SubjectErasedError once the subject's key is destroyed."""
        opened: dict[str, str] = json.loads(self._decrypt(sealed))
        return opened

    def _decrypt(self, sealed: SealedPersonalData) -> bytes:
        key = self._keyring.existing_key(sealed.subject_id)
        if key is None:
            raise SubjectErasedError(sealed.subject_id)
        raw = base64.b64decode(sealed.ciphertext)
        return AESGCM(key).decrypt(
            raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], sealed.subject_id.encode()
        )

    def erase(self, subject_id: str) -> None:
        self._keyring.destroy(subject_id)
