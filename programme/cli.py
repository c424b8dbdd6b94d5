"""The `programme` command line."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

DEFAULT_PORT = 8080


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="programme", description="Run and inspect the development programme's engine."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser(
        "serve",
        help="run the whole system on this machine over moto; the HTTP API on 127.0.0.1",
        description=(
            "Run the whole system on this machine: moto in server mode, the tables and the "
            "state machine from the template, the HTTP API served by the real handlers, the "
            "event stream fed to the projector and the lifecycle starter, the daily "
            "reconciler fired. Ctrl-C stops it."
        ),
    )
    serve.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("PORT") or DEFAULT_PORT),
        help="port of the HTTP API on 127.0.0.1 (default: $PORT or 8080; 0: any free port)",
    )
    serve.add_argument(
        "--clock",
        metavar="wall|manual:ISO",
        help=(
            "wall (default): time passes; manual:2014-09-01T09:00:00Z: program time stands "
            "there until the demo moves it (the default with --demo)"
        ),
    )
    serve.add_argument(
        "--demo",
        action="store_true",
        help="load round 3 of 2015 through the HTTP API and walk it to closed, then keep serving",
    )
    demo = commands.add_parser(
        "demo",
        help="walk round 3 of 2015 end to end through the local stack's HTTP API and print it",
    )
    demo.add_argument(
        "--port", type=int, default=0, help="port of the HTTP API (default: any free port)"
    )
    from programme.rebuild import add_rebuild_arguments, rebuild_command

    add_rebuild_arguments(
        commands.add_parser(
            "rebuild", help="replay the event store into fresh read models (all, or one VIEW)"
        )
    )
    from programme.replay import add_replay_arguments, replay_failures_command

    add_replay_arguments(
        commands.add_parser(
            "replay-failures",
            help="replay what the projector gave up on (its on-failure queue) from the event store",
            description=(
                "Drain the projector's on-failure queue: catch the event streams each message "
                "names (or, once the stream records are gone, every stream the read models lag "
                "behind) up from the event store, and delete the message only then. Safe to run "
                "again, and while the projector runs."
            ),
        )
    )
    args = parser.parse_args(argv)
    if args.command == "rebuild":
        return rebuild_command(args)
    if args.command == "replay-failures":
        return replay_failures_command(args)
    # rich, moto and the handlers load only for the commands that need them
    if args.command == "serve":
        from programme.serve import serve_command

        return serve_command(args.port, args.clock, args.demo)
    if args.command == "demo":
        from programme.serve import demo_command

        return demo_command(args.port)
    parser.error(f"unknown command {args.command!r}")  # argparse exits here
    return 2


if __name__ == "__main__":
    sys.exit(main())
