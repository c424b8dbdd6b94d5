"""One execution per round at a time, named after the round so that starting it is idempotent.

The first execution of round `2015-3` is named `2015-3`: a second start of it (a stream
record delivered twice, the reconciler racing the starter) is refused with
`ExecutionAlreadyExists`, which means it is already started. Later executions of the same
round, after one handed over (see `policy`) or failed, are `2015-3.gen2`, `2015-3.gen3`, …:
a round id never holds a dot, so the name always tells the round and the generation.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

_GENERATION: Final = re.compile(r"^(?P<round_id>[a-z0-9][a-z0-9-]*)(?:\.gen(?P<n>[1-9][0-9]*))?$")


@dataclass(frozen=True, slots=True, order=True)
class ExecutionName:
    round_id: str
    generation: int

    def __str__(self) -> str:
        return self.round_id if self.generation == 1 else f"{self.round_id}.gen{self.generation}"

    @classmethod
    def parse(cls, name: str) -> ExecutionName | None:
        """The round and generation a name stands for; None for a name of another shape."""
        found = _GENERATION.fullmatch(name)
        if found is None:
            return None
        parsed = cls(found["round_id"], int(found["n"] or 1))
        return parsed if str(parsed) == name else None  # `.gen1` is never a name we give


def start_execution(client: SFNClient, state_machine_arn: str, name: ExecutionName) -> bool:
    """Start the round's execution of that generation; False if it already exists."""
    execution_input = {"round_id": name.round_id, "generation": name.generation}
    try:
        client.start_execution(
            stateMachineArn=state_machine_arn,
            name=str(name),
            input=json.dumps(execution_input, separators=(",", ":")),
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ExecutionAlreadyExists":
            return False
        raise
    return True
