"""Who a staff command names as its actor: a keyed pseudonym of the IAM principal, never the ARN.

An assumed role's session name is often the official's e-mail address, and an IAM user is
often named after its person: the principal's ARN is personal data, and events and the
audit trail must not hold it in clear. The pseudonym is an HMAC-SHA256 of the ARN under the
deployment's own key (`ACTOR_PSEUDONYM_KEY`, an SSM SecureString on AWS), so the same
principal has the same pseudonym in every event, and only someone who holds the key and
the list of principals can say who acted (by computing `pseudonym(arn, key)` for each).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Final

from functions.common.settings import secret

UNKNOWN_ACTOR: Final = "staff:unknown"
KEY_SETTING: Final = "ACTOR_PSEUDONYM_KEY"


def pseudonym(principal_arn: str, key: str) -> str:
    digest = hmac.new(key.encode(), principal_arn.encode(), hashlib.sha256).hexdigest()
    return f"staff:{digest[:32]}"


def staff_actor(principal_arn: object) -> str:
    """The actor of a command signed by this principal (as API Gateway verified it)."""
    if not isinstance(principal_arn, str) or not principal_arn:
        return UNKNOWN_ACTOR
    return pseudonym(principal_arn, secret(KEY_SETTING))
