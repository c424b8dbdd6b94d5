"""The projector's on-failure queue: what Lambda sends when a stream mapping runs out of retries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Protocol

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

VISIBILITY_SECONDS: Final = 300
"""How long a received message stays hidden from other readers while this run holds it."""


@dataclass(frozen=True, slots=True)
class Message:
    message_id: str
    receipt_handle: str
    body: str


class FailureQueue(Protocol):
    def receive(self, max_messages: int) -> list[Message]:
        """Up to `max_messages` visible messages, hidden from other readers while held."""
        ...

    def delete(self, message: Message) -> None: ...

    def release(self, message: Message) -> None:
        """Make a held message visible again at once."""
        ...


class SqsFailureQueue:
    """The on-failure queue on SQS."""

    def __init__(
        self,
        client: SQSClient,
        queue_url: str,
        *,
        visibility_seconds: int = VISIBILITY_SECONDS,
        wait_seconds: int = 1,
    ) -> None:
        self._client = client
        self._url = queue_url
        self._visibility = visibility_seconds
        self._wait = wait_seconds

    def receive(self, max_messages: int) -> list[Message]:
        response = self._client.receive_message(
            QueueUrl=self._url,
            MaxNumberOfMessages=max_messages,
            VisibilityTimeout=self._visibility,
            WaitTimeSeconds=self._wait,  # long polling: an empty answer means an empty queue
        )
        return [
            Message(m["MessageId"], m["ReceiptHandle"], m.get("Body", ""))
            for m in response.get("Messages", [])
        ]

    def delete(self, message: Message) -> None:
        self._client.delete_message(QueueUrl=self._url, ReceiptHandle=message.receipt_handle)

    def release(self, message: Message) -> None:
        self._client.change_message_visibility(
            QueueUrl=self._url, ReceiptHandle=message.receipt_handle, VisibilityTimeout=0
        )
