"""Every state machine definition passes `statelint` (cfn-lint does not look inside them)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from programme.stack.lifecycle import STATE_MACHINES

DEFINITIONS = sorted(STATE_MACHINES.glob("*.asl.json"))


def statelint() -> str:
    beside_python = Path(sys.executable).with_name("statelint")
    found = str(beside_python) if beside_python.exists() else shutil.which("statelint")
    assert found, "statelint is a development dependency: install the dev extra"
    return found


def test_there_is_a_state_machine_to_check() -> None:
    assert [path.name for path in DEFINITIONS] == ["round_lifecycle.asl.json"]


@pytest.mark.parametrize("definition", DEFINITIONS, ids=lambda path: path.name)
def test_the_definition_has_no_statelint_findings(definition: Path) -> None:
    # GIVEN a state machine definition as checked in (placeholders and all)
    # WHEN statelint checks it
    result = subprocess.run(
        [statelint(), str(definition)], capture_output=True, text=True, check=False
    )

    # THEN it reports nothing
    assert (result.returncode, result.stdout + result.stderr) == (0, "")
