"""The local HTTP API: requests as API Gateway v2 events for the template's functions."""

from __future__ import annotations

import base64
import http.client
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from programme.stack.functions import LocalFunction
from programme.stack.http_front import LocalHttpApi, LocalHttpServer
from programme.stack.routes import Route

ROUTES = [
    Route("GET", "/rounds/{round_id}", "QueriesFunction", "tests.serve.x.handler", True),
    Route("POST", "/webhooks/typeform", "IntakeFunction", "tests.serve.y.handler", False),
]


class Echo:
    """A function that answers with what it was given."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.events.append(event)
        body = base64.b64decode(event["body"]).decode()
        return {
            "statusCode": 202,
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"function": context.function_name, "body": body}),
        }


def crash(event: dict[str, Any], context: Any) -> dict[str, Any]:
    raise RuntimeError("the function crashed")


@pytest.fixture
def served() -> Iterator[tuple[LocalHttpServer, Echo]]:
    echo = Echo()
    server = LocalHttpServer(
        ("127.0.0.1", 0),
        LocalHttpApi(
            ROUTES,
            {
                "QueriesFunction": echo,
                "IntakeFunction": crash,
            },
        ),
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server, echo
    server.shutdown()
    thread.join()
    server.server_close()


def call(server: LocalHttpServer, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
    host, port = server.server_address[:2]
    connection = http.client.HTTPConnection(str(host), port, timeout=10)
    try:
        connection.request(method, path, body=body)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_a_request_reaches_its_function_as_an_api_gateway_v2_event(
    served: tuple[LocalHttpServer, Echo],
) -> None:
    server, echo = served
    status, body = call(server, "GET", "/rounds/2015-3?limit=5", b"hello")
    assert status == 202
    assert json.loads(body) == {"function": "QueriesFunction", "body": "hello"}
    (event,) = echo.events
    assert event["routeKey"] == "GET /rounds/{round_id}"
    assert event["pathParameters"] == {"round_id": "2015-3"}
    assert event["queryStringParameters"] == {"limit": "5"}
    assert event["requestContext"]["authorizer"]["iam"]["userArn"].endswith("local-staff")


def test_an_unknown_route_is_404_and_a_crashed_function_500(
    served: tuple[LocalHttpServer, Echo],
) -> None:
    server, _ = served
    assert call(server, "GET", "/nowhere") == (404, b'{"message":"Not Found"}')
    assert call(server, "POST", "/webhooks/typeform")[0] == 500


def test_closing_the_server_ends_the_connections_clients_keep_alive() -> None:
    # GIVEN a client holding a kept-alive connection after a request
    server = LocalHttpServer(
        ("127.0.0.1", 0), LocalHttpApi(ROUTES[:1], {"QueriesFunction": Echo()})
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    before = threading.active_count()
    host, port = server.server_address[:2]
    connection = http.client.HTTPConnection(str(host), port, timeout=10)
    connection.request("GET", "/rounds/1")
    connection.getresponse().read()
    assert threading.active_count() == before + 1  # its request thread, waiting for more

    # WHEN the server stops
    server.shutdown()
    thread.join()
    server.server_close()

    # THEN no request thread is left
    assert threading.active_count() == before - 1
    connection.close()


def test_functions_never_run_at_once_even_different_ones() -> None:
    # GIVEN one function in the middle of an invocation
    inside, release = threading.Event(), threading.Event()

    def slow(event: Any, context: Any) -> dict[str, Any]:
        inside.set()
        release.wait(10)
        return {}

    second_ran = threading.Event()

    def quick(event: Any, context: Any) -> dict[str, Any]:
        second_ran.set()
        return {}

    first = LocalFunction("A", "tests.serve.unused.handler", _handler=slow)
    second = LocalFunction("B", "tests.serve.unused.handler", _handler=quick)
    running = threading.Thread(target=first, args=({}, None))
    running.start()
    assert inside.wait(10)

    # WHEN another function is invoked meanwhile
    waiting = threading.Thread(target=second, args=({}, None))
    waiting.start()

    # THEN it runs only once the first is done
    assert not second_ran.wait(0.2)
    release.set()
    assert second_ran.wait(10)
    running.join()
    waiting.join()
