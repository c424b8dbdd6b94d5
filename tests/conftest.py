"""Fixtures shared by every test folder."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator

import pytest

pytest_plugins = ["tests.support.aws", "tests.support.stack"]


@pytest.fixture(autouse=True)
def _log_handlers_outlive_captured_output() -> Iterator[None]:
    """A Powertools logger binds its handler to `sys.stdout` when its module is imported; a
    module first imported during a test with `capsys` binds it to that test's buffer, closed
    when the test ends. Point such handlers back at the session's output afterwards."""
    yield
    for logger in list(logging.root.manager.loggerDict.values()):
        for handler in getattr(logger, "handlers", []):
            stream = getattr(handler, "stream", None)
            if isinstance(handler, logging.StreamHandler) and getattr(stream, "closed", False):
                handler.stream = sys.stdout
