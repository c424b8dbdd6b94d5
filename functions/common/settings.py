"""Settings from the environment, read on first use (never at import time)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache


class MissingSettingError(RuntimeError):
    """A required environment variable is not set; the message names it."""


@dataclass(frozen=True, slots=True)
class Settings:
    region: str
    event_store_table: str
    read_model_table: str
    idempotency_table: str
    subject_keys_table: str
    personal_data_key_id: str
    state_machine_arn: str = ""

    @classmethod
    def from_environment(cls) -> Settings:
        return cls(
            region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "",
            event_store_table=os.environ.get("EVENT_STORE_TABLE", ""),
            read_model_table=os.environ.get("READ_MODEL_TABLE", ""),
            idempotency_table=os.environ.get("IDEMPOTENCY_TABLE", ""),
            subject_keys_table=os.environ.get("SUBJECT_KEYS_TABLE", ""),
            personal_data_key_id=os.environ.get("PERSONAL_DATA_KEY_ID", ""),
            state_machine_arn=os.environ.get("STATE_MACHINE_ARN", ""),
        )

    def require(self, name: str) -> str:
        """A setting this function needs; unset ones fail with the variable's name."""
        value: str = getattr(self, name)
        if not value:
            raise MissingSettingError(f"environment variable {name.upper()} is not set")
        return value


@cache
def settings() -> Settings:
    return Settings.from_environment()


def secret(env_name: str) -> str:
    """A webhook secret: from `<NAME>` locally, or the SSM parameter `<NAME>_PARAMETER` on AWS.

    Parameter Store values are cached by Powertools for five minutes, so a rotated secret
    takes effect without a redeploy.
    """
    value = os.environ.get(env_name)
    if value:
        return value
    parameter = os.environ.get(f"{env_name}_PARAMETER")
    if not parameter:
        raise MissingSettingError(f"neither {env_name} nor {env_name}_PARAMETER is set")
    from aws_lambda_powertools.utilities import parameters

    return str(parameters.get_parameter(parameter, decrypt=True, max_age=300))


def clear_caches() -> None:
    """Forget settings read so far (tests change the environment between cases)."""
    settings.cache_clear()
