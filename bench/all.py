"""Every bench, one after the other, each in a fresh process: `make bench` runs this.

    .venv/bin/python bench/all.py [--only store_cost,peers] [--quick]

Each bench prints its own header (date, machine, commit, command) and tables; this script
runs them in turn with the sizes the performance targets name (or smaller ones with
`--quick`, to check that they run), shows their output as it comes, keeps each one's output
in `bench/results/<name>.txt` (what bench/README.md quotes; `--results DIR` puts it
elsewhere), and ends with one line per bench: its exit status and how long it took. It exits
non-zero if any bench failed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

BURST = ("--duplicates", "0.1", "--seed", "7")
# name -> (full arguments, quick arguments); in the order of the targets in bench/README.md
BENCHES: dict[str, tuple[list[str], list[str]]] = {
    "store_cost": (
        ["--lengths", "10,100,1000,10000", "--commands", "5"],
        ["--lengths", "10,100", "--commands", "2"],
    ),
    "cold_start": (["--runs", "15"], ["--runs", "1", "--no-package"]),
    "rebuild": (["--events", "100000", "--repeat", "3"], ["--events", "2000", "--repeat", "1"]),
    "burst": (
        [
            *("--applications", "500", "--clients", "50", "--direct-applications", "100"),
            *("--growth-applications", "100", *BURST),
        ],
        [*("--applications", "20", "--clients", "4", "--direct-applications", "10"), *BURST],
    ),
    "restart": (["--events", "1000,10000"], ["--events", "100"]),
    "peers": (["--rounds", "20", "--repeat", "3"], ["--rounds", "3", "--repeat", "1"]),
    "cost_per_round": (["--agencies", "12"], ["--agencies", "4"]),
    "handler_latency": ([], ["20", "--long-stream", "60"]),
    "calls_per_application": (["--sizes", "10,100"], ["--sizes", "3"]),
    "projection_cost": (["--events", "100,400,1600"], ["--events", "20,40"]),
}


def run(name: str, arguments: list[str], results: Path) -> tuple[int, float]:
    """Run one bench, echoing its output and keeping it; its exit status and seconds."""
    results.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, str(HERE / f"{name}.py"), *arguments]
    began = time.perf_counter()
    with (results / f"{name}.txt").open("w", encoding="utf-8") as kept:
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
        )
        assert process.stdout is not None
        for line in process.stdout:
            sys.stdout.write(line)
            kept.write(line)
        status = process.wait()
    return status, time.perf_counter() - began


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="", help="comma-separated bench names (default: all)")
    parser.add_argument("--quick", action="store_true", help="small sizes: check they run")
    parser.add_argument(
        "--results", type=Path, default=RESULTS, help="where outputs are kept (bench/results)"
    )
    args = parser.parse_args(argv)
    chosen = [name for name in args.only.split(",") if name] or list(BENCHES)
    unknown = sorted(set(chosen) - set(BENCHES))
    if unknown:
        parser.error(f"no such bench: {', '.join(unknown)} (there are: {', '.join(BENCHES)})")
    outcomes = []
    for number, name in enumerate(chosen, 1):
        full, quick = BENCHES[name]
        print(f"\n=== [{number}/{len(chosen)}] bench/{name}.py ===", flush=True)
        outcomes.append((name, *run(name, quick if args.quick else full, args.results)))
    print("\n=== summary ===")
    for name, status, seconds in outcomes:
        verdict = "ok" if status == 0 else f"FAILED (exit {status})"
        print(f"{name:<16} {verdict:<18} {seconds:7.1f} s   {args.results / name}.txt")
    return 0 if all(status == 0 for _, status, _ in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
