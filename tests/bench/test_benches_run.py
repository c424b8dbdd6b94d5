"""Every bench still runs: `bench/all.py --quick --only NAME` (small sizes), as `make bench` runs
them, one test per bench so they spread over the test workers and each says which it is.

A bench that nothing runs rots unnoticed (one once failed for weeks for want of a variable).
This does not check any figure — targets are read off the full run, never asserted in tests
— only that each bench ends well and prints its header and at least one table.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def bench_names() -> list[str]:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from all import BENCHES  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(ROOT / "bench"))
    return list(BENCHES)


NAMES = bench_names()


def test_there_are_benches_to_run() -> None:
    assert len(NAMES) >= 7, NAMES


@pytest.mark.parametrize("name", NAMES)
def test_the_bench_runs_at_small_sizes_and_prints_its_tables(name: str, tmp_path: Path) -> None:
    finished = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "all.py"),
            "--quick",
            "--only",
            name,
            "--results",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert finished.returncode == 0, finished.stdout[-4000:] + finished.stderr[-4000:]
    output = (tmp_path / f"{name}.txt").read_text(encoding="utf-8")
    assert output.splitlines()[1].startswith("date"), f"{name}: no header"
    assert "┏" in output, f"{name}: no table"
    assert f"{name:<16} ok" in finished.stdout
