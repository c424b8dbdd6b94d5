"""`programme serve` stopped as a person stops it: Ctrl-C (SIGINT) or SIGTERM, exit 0, nothing left.

Run as a separate process, the way a person runs it: the signal arrives in its main thread,
and it reports whether any thread it started is still running after it stopped.
"""

from __future__ import annotations

import re
import signal
import urllib.error
import urllib.request

import pytest

from tests.e2e.processes import start_serve
from tests.e2e.targets import poll_until

SERVING = re.compile(r"serving on (http://127\.0\.0\.1:\d+)")
API = re.compile(r"HTTP API\s+(http://127\.0\.0\.1:\d+)")


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "term"])
def test_programme_serve_stops_on_a_signal_with_exit_0_and_no_thread_left(
    stop_signal: signal.Signals,
) -> None:
    # GIVEN `programme serve` on a free port, serving
    served = start_serve("--port", "0")
    server, lines, reader = served.process, served.lines, served.reader
    try:
        poll_until(lambda: any(SERVING.search(line) for line in lines), "serving", timeout=60)
        (url,) = [m[1] for line in lines if (m := SERVING.search(line))]
        with urllib.request.urlopen(f"{url}/health", timeout=10) as health:
            assert health.status == 200
        with urllib.request.urlopen(f"{url}/ready", timeout=10) as ready:
            assert ready.status == 200

        # WHEN it is sent the signal
        server.send_signal(stop_signal)
        exit_code = server.wait(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    reader.join(timeout=5)

    # THEN it stopped everything it started and exited 0
    output = "".join(lines)
    assert exit_code == 0, output
    assert "stopped cleanly: no thread left running" in output
    assert "Traceback" not in output


def ready_status(url: str) -> int:
    try:
        with urllib.request.urlopen(f"{url}/ready", timeout=10) as ready:
            return int(ready.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_ready_answers_503_while_the_demo_loads_and_200_once_it_is_walked() -> None:
    # GIVEN `programme serve --demo` started, its API up and round 3 not yet walked
    served = start_serve("--demo", "--port", "0")
    server, lines, reader = served.process, served.lines, served.reader
    try:
        poll_until(lambda: any(API.search(line) for line in lines), "the API is up", timeout=60)
        (url,) = [m[1] for line in lines if (m := API.search(line))]
        # WHEN a probe asks while the demo loads / THEN 503
        while_loading = ready_status(url)
        # AND once the stack says it is serving, 200
        poll_until(lambda: any(SERVING.search(line) for line in lines), "serving", timeout=120)
        after = ready_status(url)
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    reader.join(timeout=5)
    assert (while_loading, after) == (503, 200), "".join(lines)
