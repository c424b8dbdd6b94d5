"""`programme serve` as a separate process, the way a person runs it, with its output read as
it comes (a thread collects the lines, so a full pipe never blocks the server)."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.targets import poll_until

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Served:
    process: subprocess.Popen[str]
    lines: list[str]
    reader: threading.Thread

    def found(self, pattern: re.Pattern[str], what: str, *, timeout: float = 60) -> str:
        """The first group of the first output line matching `pattern`, once one is printed."""
        poll_until(lambda: any(pattern.search(line) for line in self.lines), what, timeout=timeout)
        return next(m[1] for line in self.lines if (m := pattern.search(line)))


def start_serve(*arguments: str, env: Mapping[str, str] | None = None) -> Served:
    """`python -m programme.cli serve <arguments>` from the project's root, output captured."""
    process = subprocess.Popen(
        [sys.executable, "-m", "programme.cli", "serve", *arguments],
        cwd=ROOT,
        env=None if env is None else dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout or []), daemon=True)
    reader.start()
    return Served(process, lines, reader)
