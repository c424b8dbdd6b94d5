"""The local stack's durability: every DynamoDB write moto accepted, on disk before its answer.

moto keeps its tables in memory. The journal is a SQLite file (WAL, `synchronous=FULL`: a
committed row survives a power cut, not only a crash) holding each successful mutating
DynamoDB request as it came, in the order moto applied them: the journal row is committed
inside the one DynamoDB lock (`moto_dynamodb`), after moto applied the request and before its
answer leaves. So a handler that answered 2xx had every write it made on disk first, and no
reader (the stream pump takes the same lock) saw a write the journal does not hold.

At start the requests are handed to a fresh moto again (its handler, in this process), in
order; DynamoDB's writes are deterministic given their order (a condition that held then
holds again), so the tables come back as they were, and the event store's stream with them:
the pump reads it from its start, so the projector finds its checkpoints and the lifecycle
starter starts every round's execution again. Requests moto refused (a failed condition, a
cancelled transaction) changed nothing and are not kept.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from botocore.awsrequest import AWSPreparedRequest
from botocore.compat import HTTPHeaders
from moto.dynamodb.responses import DynamoHandler

from programme.stack.moto_in_process import answer

MUTATING: Final = frozenset(
    {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
)
_TARGET_PREFIX: Final = "DynamoDB_20120810."
_REPLAY_AUTH: Final = (
    "AWS4-HMAC-SHA256 Credential=local/20260101/{region}/dynamodb/aws4_request, "
    "SignedHeaders=host;x-amz-target, Signature=0"
)


class JournalError(OSError):
    """The journal cannot be opened or written: the message says where and why."""


class Journal:
    """An append-only log of DynamoDB write requests in one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS requests ("
                " seq INTEGER PRIMARY KEY, operation TEXT NOT NULL, body BLOB NOT NULL)"
            )
        except sqlite3.Error as error:
            raise JournalError(f"cannot open the journal {path}: {error}") from None
        self._lock = threading.Lock()
        self.replaying = False

    def append(self, operation: str, body: bytes) -> None:
        """Committed (and synced) when this returns."""
        with self._lock:
            self._db.execute(
                "INSERT INTO requests (operation, body) VALUES (?, ?)", (operation, body)
            )

    def count(self) -> int:
        with self._lock:
            (count,) = self._db.execute("SELECT COUNT(*) FROM requests").fetchone()
        return int(count)

    def entries(self, batch: int = 1000) -> Iterator[tuple[str, bytes]]:
        """In order, a batch at a time: a long journal is never all in memory at once."""
        after = 0
        while True:
            with self._lock:
                rows = self._db.execute(
                    "SELECT seq, operation, body FROM requests WHERE seq > ? ORDER BY seq LIMIT ?",
                    (after, batch),
                ).fetchall()
            if not rows:
                return
            for seq, operation, body in rows:
                after = seq
                yield str(operation), bytes(body)

    def close(self) -> None:
        with self._lock:
            self._db.close()


def journal_dynamodb_writes(journal: Journal) -> Callable[[], None]:
    """Patch moto's DynamoDB handler so each accepted write is journaled before its answer;
    returns the function that undoes it. Installed under `serialise_moto_dynamodb`'s lock."""
    original = DynamoHandler.__dict__["call_action"]

    def journaled(self: Any) -> Any:
        target = str(self.headers.get("X-Amz-Target") or "")
        operation = target.rpartition(".")[2]
        raw = self.raw_body
        result = original(self)
        if operation in MUTATING and not journal.replaying and _status(result) == 200:
            journal.append(operation, raw if isinstance(raw, bytes) else str(raw).encode())
        return result

    DynamoHandler.call_action = journaled  # type: ignore[method-assign]

    def undo() -> None:
        DynamoHandler.call_action = original  # type: ignore[method-assign]

    return undo


def _status(result: Any) -> int:
    return int(result[0]) if isinstance(result, tuple) and result else 200


def _headers(values: dict[str, str]) -> HTTPHeaders:
    headers = HTTPHeaders()
    for name, value in values.items():
        headers[name] = value
    return headers


def replay(
    journal: Journal, moto_url: str, region: str, progress: Callable[[int, int], None]
) -> int:
    """Send every journaled request to moto again, in order; the number sent.

    Each is handed to moto's DynamoDB handler in this process (`moto_in_process.answer`, as
    the stack's own clients' calls are), not sent over HTTP: moto's server closes every
    connection, so each of them cost a TCP connection and a thread of its own."""
    total = journal.count()
    headers = {
        "Content-Type": "application/x-amz-json-1.0",
        "Authorization": _REPLAY_AUTH.format(region=region),
        "Host": urlsplit(moto_url).netloc,
    }
    url = moto_url.rstrip("/") + "/"
    journal.replaying = True
    sent = 0
    try:
        for operation, body in journal.entries():
            request = AWSPreparedRequest(
                "POST",
                url,
                _headers({**headers, "X-Amz-Target": _TARGET_PREFIX + operation}),
                body,
                stream_output=False,
            )
            status, _, text = answer(DynamoHandler.dispatch, request)
            if status != 200:
                raise JournalError(
                    f"the journal {journal.path} does not replay: request {sent + 1} "
                    f"({operation}) was refused ({status}: {text[:200]!r})"
                )
            sent += 1
            if sent % 500 == 0 or sent == total:
                progress(sent, total)
    finally:
        journal.replaying = False
    return sent
