"""Every bench still runs: `bench/all.py --quick` (small sizes), as `make bench` runs them.

A bench that nothing runs rots unnoticed (one once failed for weeks for want of a variable).
This does not check any figure — targets are read off the full run, never asserted in tests
— only that each bench ends well and prints its header and at least one table.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_bench_runs_at_small_sizes_and_prints_its_tables(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from all import BENCHES  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(ROOT / "bench"))
    finished = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "all.py"), "--quick", "--results", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert finished.returncode == 0, finished.stdout[-4000:] + finished.stderr[-4000:]
    for name in BENCHES:
        output = (tmp_path / f"{name}.txt").read_text(encoding="utf-8")
        assert output.splitlines()[1].startswith("date"), f"{name}: no header"
        assert "┏" in output, f"{name}: no table"
        assert f"{name:<16} ok" in finished.stdout
