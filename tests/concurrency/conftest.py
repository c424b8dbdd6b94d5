"""The race tests use `env` and `rounds` from tests/support/stack.py."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    quiet = [
        # Metrics keep their dimensions between invocations in one process (on AWS, one each).
        pytest.mark.filterwarnings("ignore:Dimension 'provider' has already been added"),
    ]
    for item in items:
        if item.path.is_relative_to(HERE):
            for mark in quiet:
                item.add_marker(mark)
