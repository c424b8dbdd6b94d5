"""The folder where `programme serve --data DIR` keeps what it acknowledged.

- `journal.sqlite3` (+ its `-wal`): every DynamoDB write moto accepted (`journal`): the event
  store, the subject keys, the idempotency records and the read models.
- `secrets.json` (mode 0600): the webhook secrets and the staff pseudonym key, made at the first
  start; `TYPEFORM_SECRET` / `FORMS_WEBHOOK_SECRET` in the environment still win.
- `kms-key.json` (mode 0600): the id and material of the local KMS key that wraps each
  person's data key, so sealed data opens after a restart.

Back it up or move it while the stack is stopped (or with `sqlite3 journal.sqlite3 ".backup
…"` while it runs); a copy of the folder is a copy of the system.
"""

from __future__ import annotations

import base64
import json
import os
import secrets as random
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from programme.stack.environment import (
    FORMS_WEBHOOK_SECRET,
    TYPEFORM_SECRET,
    WebhookSecrets,
    webhook_secrets,
)
from programme.stack.journal import Journal, JournalError

JOURNAL: Final = "journal.sqlite3"
SECRETS: Final = "secrets.json"
KMS_KEY: Final = "kms-key.json"
_PRIVATE: Final = 0o600


class DataDirError(OSError):
    """The data folder cannot be used: the message says which and why, for the console."""


class DataDir:
    def __init__(self, path: Path) -> None:
        self.path = path.expanduser().resolve()
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            probe = self.path / ".writable"
            with probe.open("wb") as file:  # a full disk or a read-only folder fails here
                file.write(b"x" * 4096)
                file.flush()
                os.fsync(file.fileno())
            probe.unlink()
        except OSError as error:
            reason = error.strerror or str(error)
            raise DataDirError(f"the data folder {self.path} cannot be written: {reason}") from None

    def journal(self) -> Journal:
        path = self.path / JOURNAL
        try:
            path.touch(mode=_PRIVATE, exist_ok=True)  # ciphertexts and wrapped keys: private
            return Journal(path)
        except (JournalError, OSError) as error:
            raise DataDirError(str(error)) from None

    def is_empty(self) -> bool:
        """Nothing recorded yet (no journal, or one with no writes)."""
        if not (self.path / JOURNAL).exists():
            return True
        journal = self.journal()
        try:
            return journal.count() == 0
        finally:
            journal.close()

    def wipe(self) -> None:
        """Start afresh: the journal, the secrets and the key go."""
        for name in (JOURNAL, f"{JOURNAL}-wal", f"{JOURNAL}-shm", SECRETS, KMS_KEY):
            (self.path / name).unlink(missing_ok=True)

    def secrets(self, environ: Mapping[str, str] = os.environ) -> WebhookSecrets:
        """The secrets kept here (made and kept at the first start); the environment wins."""
        saved = self._read(SECRETS)
        if saved is None:
            made = webhook_secrets({})
            saved = {"typeform": made.typeform, "forms": made.forms, "actor_key": made.actor_key}
            self._write(SECRETS, saved)
        chosen = {
            TYPEFORM_SECRET: environ.get(TYPEFORM_SECRET) or saved["typeform"],
            FORMS_WEBHOOK_SECRET: environ.get(FORMS_WEBHOOK_SECRET) or saved["forms"],
        }
        from_environment = webhook_secrets(chosen)  # checks a given Standard Webhooks secret
        kept = tuple(
            name for name in (TYPEFORM_SECRET, FORMS_WEBHOOK_SECRET) if not environ.get(name)
        )
        return WebhookSecrets(
            from_environment.typeform, from_environment.forms, (), str(saved["actor_key"]), kept
        )

    def kms_key(self) -> tuple[str, bytes] | None:
        saved = self._read(KMS_KEY)
        if saved is None:
            return None
        return str(saved["key_id"]), base64.b64decode(saved["material"])

    def keep_kms_key(self, key_id: str, material: bytes) -> None:
        self._write(KMS_KEY, {"key_id": key_id, "material": base64.b64encode(material).decode()})

    def _read(self, name: str) -> dict[str, Any] | None:
        path = self.path / name
        if not path.exists():
            return None
        try:
            loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise DataDirError(f"{path} cannot be read: {error}") from None
        return loaded

    def _write(self, name: str, value: dict[str, Any]) -> None:
        path = self.path / name
        temporary = path.with_suffix(f".{random.token_hex(4)}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _PRIVATE)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            json.dump(value, file)
            file.flush()
            os.fsync(file.fileno())
        temporary.replace(path)
        directory = os.open(self.path, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
