"""The `programme` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="programme", description="Run and inspect the development programme's engine."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "demo",
        help="walk round 3 of 2015 end to end on the DynamoDB event store (moto) and print it",
    )
    from infra.rebuild import add_rebuild_arguments, rebuild_command

    add_rebuild_arguments(
        commands.add_parser(
            "rebuild", help="replay the event store into fresh read models (all, or one VIEW)"
        )
    )
    args = parser.parse_args(argv)
    if args.command == "rebuild":
        return rebuild_command(args)
    if args.command == "demo":
        from infra.report import run_demo  # rich and moto load only for the command that needs them

        return run_demo()
    parser.error(f"unknown command {args.command!r}")  # argparse exits here
    return 2


if __name__ == "__main__":
    sys.exit(main())
