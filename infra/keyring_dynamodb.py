"""The deployed keyring: one data key per subject, wrapped by KMS, kept in DynamoDB.

A subject's item holds their data key encrypted under the personal-data KMS key (envelope
encryption, the subject id bound as encryption context). Erasure overwrites the item with a
tombstone: the wrapped key is gone, so every ciphertext for that subject is unreadable,
and the tombstone stops a late delivery from creating a fresh key for an erased person.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from infra.vault import SubjectErasedError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_kms import KMSClient


class KmsDynamoDBKeyring:
    def __init__(
        self, dynamodb: DynamoDBClient, kms: KMSClient, table_name: str, kms_key_id: str
    ) -> None:
        self._dynamodb = dynamodb
        self._kms = kms
        self._table = table_name
        self._kms_key_id = kms_key_id

    def key_for(self, subject_id: str) -> bytes:
        existing = self._item(subject_id)
        if existing is not None:
            return self._unwrap(subject_id, existing)
        generated = self._kms.generate_data_key(
            KeyId=self._kms_key_id, KeySpec="AES_256", EncryptionContext={"subject": subject_id}
        )
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item={
                    "subject_id": {"S": subject_id},
                    "wrapped_key": {"B": generated["CiphertextBlob"]},
                    "created_at": {"S": datetime.now(UTC).isoformat()},
                },
                ConditionExpression="attribute_not_exists(subject_id)",
            )
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            # Another writer created (or erased) the subject first: use what is there.
            raced = self._item(subject_id)
            if raced is None:
                raise SubjectErasedError(subject_id) from None
            return self._unwrap(subject_id, raced)
        return generated["Plaintext"]

    def existing_key(self, subject_id: str) -> bytes | None:
        try:
            item = self._item(subject_id)
        except SubjectErasedError:
            return None
        return None if item is None else self._unwrap(subject_id, item)

    def destroy(self, subject_id: str) -> None:
        self._dynamodb.put_item(
            TableName=self._table,
            Item={
                "subject_id": {"S": subject_id},
                "erased_at": {"S": datetime.now(UTC).isoformat()},
            },
        )

    def _item(self, subject_id: str) -> bytes | None:
        """The wrapped key; None when the subject has none; raises once they are erased."""
        item = self._dynamodb.get_item(
            TableName=self._table, Key={"subject_id": {"S": subject_id}}, ConsistentRead=True
        ).get("Item")
        if item is None:
            return None
        if "erased_at" in item:
            raise SubjectErasedError(subject_id)
        return item["wrapped_key"]["B"]

    def _unwrap(self, subject_id: str, wrapped: bytes) -> bytes:
        return self._kms.decrypt(
            CiphertextBlob=wrapped,
            KeyId=self._kms_key_id,
            EncryptionContext={"subject": subject_id},
        )["Plaintext"]
