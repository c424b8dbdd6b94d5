"""The `programme` command line as an operator meets it: help per verb, what to set when the
environment lacks it, a port in use, and the probes that say whether the stack is loaded."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from programme.cli import main, missing_environment
from programme.serve import serve_command
from programme.stack.http_front import LocalHttpApi, LocalHttpServer

ROOT = Path(__file__).resolve().parents[2]
VERBS = ("serve", "demo", "rebuild", "replay-failures")
OPERATOR_VARIABLES = (
    "EVENT_STORE_TABLE",
    "READ_MODEL_TABLE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "PROJECTOR_FAILURE_QUEUE_URL",
)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in OPERATOR_VARIABLES}
    return subprocess.run(
        [sys.executable, "-m", "programme.cli", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("verb", VERBS)
def test_every_verb_describes_itself(verb: str, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN / WHEN `programme <verb> --help`
    with pytest.raises(SystemExit) as exited:
        main([verb, "--help"])
    # THEN it exits 0 with a description of what the verb does, beyond its usage line
    assert exited.value.code == 0
    out = capsys.readouterr().out
    usage, _, rest = out.partition("\n\n")
    assert usage.startswith(f"usage: programme {verb}")
    description = rest.split("\n\n")[0]
    assert len(description.split()) >= 15, description


@pytest.mark.parametrize("verb", ["rebuild", "replay-failures"])
def test_an_operator_verb_without_its_environment_says_what_to_set(verb: str) -> None:
    # GIVEN an environment with none of the stack's names, nor a region
    # WHEN the verb runs, as a process
    done = run_cli(verb)
    # THEN it exits 2 naming each variable and where to find it, without a traceback
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    for name in ("EVENT_STORE_TABLE", "READ_MODEL_TABLE", "AWS_REGION"):
        assert name in done.stderr
    assert "EventStoreTableName" in done.stderr


def test_the_check_names_only_what_is_missing() -> None:
    # GIVEN an environment with the tables but no region
    environ = {"EVENT_STORE_TABLE": "events", "READ_MODEL_TABLE": "views"}
    # WHEN / THEN only the region is asked for; with it, nothing; serve needs none of them
    assert missing_environment("rebuild", environ) == ["AWS_REGION (the stack's region)"]
    assert missing_environment("rebuild", {**environ, "AWS_DEFAULT_REGION": "eu-north-1"}) == []
    assert missing_environment("serve", {}) == []


def test_an_unreachable_aws_is_a_line_not_a_traceback() -> None:
    # GIVEN the environment set, but an endpoint where nothing listens
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = {
        **{k: v for k, v in os.environ.items() if k not in OPERATOR_VARIABLES},
        "EVENT_STORE_TABLE": "events",
        "READ_MODEL_TABLE": "views",
        "AWS_REGION": "eu-north-1",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_MAX_ATTEMPTS": "1",
    }
    # WHEN rebuild runs
    done = subprocess.run(
        [sys.executable, "-m", "programme.cli", "rebuild", "--grace", "0"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # THEN one line says AWS could not be reached, exit 2
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "cannot reach AWS" in done.stderr


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def test_a_port_in_use_raises_the_bind_error_itself(taken_port: int) -> None:
    # GIVEN a port another process listens on
    # WHEN the HTTP front binds it
    # THEN the OSError of the bind comes out (not an AttributeError from cleaning up)
    with pytest.raises(OSError, match="in use") as raised:
        LocalHttpServer(("127.0.0.1", taken_port))
    assert not isinstance(raised.value, AttributeError)


def test_serve_on_a_port_in_use_says_so_and_exits_1(
    taken_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a taken port / WHEN `programme serve --port <it>`
    code = serve_command(taken_port, None, demo=False)
    # THEN exit 1, the port named with the way out, and nothing left running
    out = capsys.readouterr().out
    assert code == 1
    assert f"cannot serve on 127.0.0.1:{taken_port}" in " ".join(out.split())
    assert "--port" in out


def test_serve_with_a_data_folder_it_cannot_write_says_so_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a data folder that cannot be made (its parent is a file)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    # WHEN `programme serve --data <it>`
    code = serve_command(0, None, demo=False, data=str(blocker / "data"))
    # THEN exit 2 with the folder and the reason, no traceback, and nothing started
    out = " ".join(capsys.readouterr().out.split())
    assert code == 2
    assert f"the data folder {blocker / 'data'} cannot be written: Not a directory" in out
    assert "Traceback" not in out


def test_serve_with_a_journal_that_is_not_one_says_so_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a data folder whose journal is not a SQLite file
    (tmp_path / "journal.sqlite3").write_bytes(b"this is not a database" * 100)
    # WHEN `programme serve --data <it>`
    code = serve_command(0, None, demo=False, data=str(tmp_path))
    # THEN exit 2, naming the journal
    out = " ".join(capsys.readouterr().out.split())
    assert code == 2
    assert f"cannot open the journal {tmp_path / 'journal.sqlite3'}" in out


def probe(server: LocalHttpServer, path: str) -> tuple[int, dict[str, str]]:
    host, port = server.server_address[:2]
    connection = http.client.HTTPConnection(str(host), port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def test_ready_tells_a_probe_whether_the_stack_is_loaded() -> None:
    # GIVEN a front still loading the demo
    server = LocalHttpServer(("127.0.0.1", 0), LocalHttpApi([], {}))
    server.loading = "round 3 of 2015 (the demo)"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        # WHEN a probe asks / THEN 503, naming what is loading
        assert probe(server, "/ready") == (
            503,
            {"status": "loading", "loading": "round 3 of 2015 (the demo)"},
        )
        # AND once loaded, 200 "ready"
        server.ready()
        assert probe(server, "/ready") == (200, {"status": "ready"})
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
