"""The `programme` command line."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

DEFAULT_PORT = 8080

# What each operator verb reads from the environment, and where a deployed stack says it.
OPERATOR_ENVIRONMENT = {
    "rebuild": {
        "EVENT_STORE_TABLE": "the stack's EventStoreTableName output",
        "READ_MODEL_TABLE": "the stack's ReadModelTableName output",
    },
    "replay-failures": {
        "EVENT_STORE_TABLE": "the stack's EventStoreTableName output",
        "READ_MODEL_TABLE": "the stack's ReadModelTableName output",
    },
}
REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")


def missing_environment(command: str, environ: os._Environ[str] | dict[str, str]) -> list[str]:
    """What `command` needs from the environment and lacks, each with where to find it."""
    missing = [
        f"{name} ({where})"
        for name, where in OPERATOR_ENVIRONMENT.get(command, {}).items()
        if not environ.get(name)
    ]
    if command in OPERATOR_ENVIRONMENT and not any(environ.get(v) for v in REGION_VARIABLES):
        missing.append("AWS_REGION (the stack's region)")
    return missing


def _environment_help(command: str, missing: list[str]) -> str:
    lines = [f"programme {command}: set " + ", ".join(missing) + "."]
    lines.append(
        "  On AWS: `aws cloudformation describe-stacks --stack-name <stack>` lists the outputs;"
        " credentials as for the AWS CLI."
    )
    lines.append(
        "  Against `programme serve`: AWS_ENDPOINT_URL=<its moto URL>, any credentials, and the"
        " table names it prints at start."
    )
    return "\n".join(lines)


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
            "reconciler fired. GET /ready answers 503 while it is still loading (with --demo, "
            "until round 3 is walked), 200 once it is. Ctrl-C stops it."
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
    serve.add_argument(
        "--data",
        metavar="DIR",
        default=os.environ.get("PROGRAMME_DATA") or None,
        help=(
            "keep what the system acknowledged in DIR (a journal of every write, the secrets, "
            "the KMS key) and restore it at the next start (default: $PROGRAMME_DATA; unset: "
            "in memory only)"
        ),
    )
    serve.add_argument(
        "--fresh",
        action="store_true",
        help="with --data: delete what DIR holds and start afresh",
    )
    demo = commands.add_parser(
        "demo",
        help="walk round 3 of 2015 end to end through the local stack's HTTP API and print it",
        description=(
            "Start a fresh local stack, load round 3 of 2015 through its HTTP API (signed "
            "webhook deliveries and staff commands), let the state machine walk it to closed on "
            "a manual clock, print the round's report, stop. Exits 0 when the round closed."
        ),
    )
    demo.add_argument(
        "--port", type=int, default=0, help="port of the HTTP API (default: any free port)"
    )
    from programme.rebuild import add_rebuild_arguments, rebuild_command

    add_rebuild_arguments(
        commands.add_parser(
            "rebuild",
            help="replay the event store into fresh read models (all, or one VIEW)",
            description=(
                "Replay every event of the event store into a new generation of the read "
                "models (all views, or one), while the system keeps taking writes; readers "
                "switch when it is complete. Needs EVENT_STORE_TABLE, READ_MODEL_TABLE and "
                "AWS_REGION (the stack's outputs), and AWS credentials."
            ),
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
                "again, and while the projector runs. Needs EVENT_STORE_TABLE, READ_MODEL_TABLE "
                "and AWS_REGION (the stack's outputs), and AWS credentials."
            ),
        )
    )
    args = parser.parse_args(argv)
    missing = missing_environment(args.command, os.environ)
    if missing:
        print(_environment_help(args.command, missing), file=sys.stderr)
        return 2
    if args.command == "rebuild":
        return _operator(args.command, rebuild_command, args)
    if args.command == "replay-failures":
        return _operator(args.command, replay_failures_command, args)
    # rich, moto and the handlers load only for the commands that need them
    if args.command == "serve":
        from programme.serve import serve_command

        return serve_command(args.port, args.clock, args.demo, args.data, args.fresh)
    if args.command == "demo":
        from programme.serve import demo_command

        return demo_command(args.port)
    parser.error(f"unknown command {args.command!r}")  # argparse exits here
    return 2


def _operator(command: str, run: Callable[[argparse.Namespace], int], args: Any) -> int:
    """An operator verb, its failures to reach AWS said in a line, not a traceback."""
    from botocore.exceptions import BotoCoreError, ClientError

    from functions.common.settings import MissingSettingError

    try:
        return run(args)
    except MissingSettingError as error:
        print(f"programme {command}: {error}", file=sys.stderr)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "error")
        message = error.response.get("Error", {}).get("Message", "")
        print(f"programme {command}: AWS answered {code}: {message}", file=sys.stderr)
    except BotoCoreError as error:
        print(f"programme {command}: cannot reach AWS: {error}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
