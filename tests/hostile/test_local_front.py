"""The local HTTP front with hostile framing: lengths it cannot trust, bodies past API
Gateway's limit, repeated headers. Served here with the template's routes and the real
handlers, over moto in this process; raw bytes on a socket, so nothing tidies the request.

Each is answered (never a dropped connection or a hang) and changes nothing stored; what the
front passes on is what API Gateway would: repeated headers joined with commas.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator

import pytest

from programme.stack.http_front import MAX_REQUEST_BYTES, LocalHttpApi, LocalHttpServer
from programme.stack.routes import http_routes, load_handler
from programme.template import load_template
from tests.functions.http import typeform_payload, typeform_signature
from tests.functions.rounds import Rounds
from tests.hostile.snapshot import Snapshot, assert_unchanged

TIMEOUT = 10.0


@pytest.fixture
def front(open_round: Rounds) -> Iterator[tuple[str, int]]:
    """The template's routes on a free port, each bound to its real handler."""
    routes = http_routes(load_template())
    handlers = {route.function: load_handler(route.handler) for route in routes}
    server = LocalHttpServer(("127.0.0.1", 0), LocalHttpApi(routes, handlers))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    host, port = server.server_address[:2]
    yield str(host), int(port)
    server.shutdown()
    thread.join()
    server.server_close()


def exchange(address: tuple[str, int], request: bytes) -> tuple[int, bytes]:
    """Send raw bytes; the status and body of the answer, read until the server closes."""
    with socket.create_connection(address, timeout=TIMEOUT) as connection:
        connection.sendall(request)
        received = b""
        while chunk := connection.recv(65536):  # a hang fails here, on the timeout
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def post(path: str, headers: list[tuple[str, str]], body: bytes = b"") -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: localhost", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        pytest.param([("Content-Length", "-5")], b"{}", 400, id="negative length"),
        pytest.param([("Content-Length", "abc")], b"{}", 400, id="length not a number"),
        pytest.param([("Content-Length", "+2")], b"{}", 400, id="length with a sign"),
        pytest.param([("Content-Length", "²")], b"{}", 400, id="length in superscript"),
        pytest.param(
            [("Content-Length", "2"), ("Content-Length", "7")], b"{}", 400, id="two lengths"
        ),
        pytest.param([("Content-Length", str(MAX_REQUEST_BYTES + 1))], b"{}", 413, id="past 10 MB"),
        pytest.param(
            [("Transfer-Encoding", "chunked")], b"2\r\n{}\r\n0\r\n\r\n", 411, id="chunked"
        ),
    ],
)
@pytest.mark.parametrize("path", ["/rounds", "/webhooks/typeform"])
def test_a_body_of_untrustworthy_length_is_refused_and_stores_nothing(
    front: tuple[str, int],
    state: Callable[[], Snapshot],
    path: str,
    headers: list[tuple[str, str]],
    body: bytes,
    status: int,
) -> None:
    # GIVEN all that is stored
    before = state()

    # WHEN a request comes whose body's length cannot be trusted, or is past the limit
    answered, reply = exchange(
        front, post(path, [("Content-Type", "application/json"), *headers], body)
    )

    # THEN it is answered as API Gateway would, at once, and nothing is stored
    assert answered == status
    assert json.loads(reply)["message"]
    assert_unchanged(before, state())


@pytest.mark.parametrize("valid_first", [True, False], ids=["valid first", "valid last"])
def test_a_repeated_signature_header_reaches_the_function_joined_and_is_refused(
    front: tuple[str, int], state: Callable[[], Snapshot], valid_first: bool
) -> None:
    """API Gateway joins repeated headers with commas, so a valid signature beside a forged
    one is no signature; the local front used to pass on only the last of them."""
    # GIVEN a delivery with its valid signature and a forged one, on two header lines
    body = json.dumps(typeform_payload()).encode()
    signatures = [typeform_signature(body), "sha256=Zm9yZ2Vk"]
    if not valid_first:
        signatures.reverse()
    headers = [("Content-Length", str(len(body)))]
    headers += [("Typeform-Signature", signature) for signature in signatures]
    before = state()

    # WHEN it arrives
    status, reply = exchange(front, post("/webhooks/typeform", headers, body))

    # THEN it is unauthorised, and nothing is stored
    assert status == 401, reply
    assert_unchanged(before, state())


def request(method: str, path: str, headers: list[tuple[str, str]], body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@pytest.mark.parametrize("method", ["OPTIONS", "PROPFIND", "TRACE", "DELETE", "PATCH"])
def test_a_method_no_route_takes_is_answered_in_json_and_changes_nothing(
    front: tuple[str, int], state: Callable[[], Snapshot], method: str
) -> None:
    # GIVEN all that is stored
    before = state()

    # WHEN a request comes with a method no route takes
    status, reply = exchange(front, request(method, "/rounds", [("Host", "localhost")]))

    # THEN it is API Gateway's JSON 404 (not http.server's HTML 501), and nothing changed
    assert status == 404, reply
    assert json.loads(reply) == {"message": "Not Found"}
    assert_unchanged(before, state())


def test_a_request_line_http_server_cannot_parse_is_refused_in_json(
    front: tuple[str, int],
) -> None:
    status, reply = exchange(front, b"GET /rounds HTTP/9.9 extra\r\nHost: localhost\r\n\r\n")

    assert status == 400
    assert json.loads(reply)["message"]


@pytest.mark.parametrize(
    "host",
    ["evil.example", "evil.example:8080", "127.0.0.1.evil.example", "localhost.evil.example", ""],
)
def test_a_signed_delivery_for_a_foreign_host_is_refused_and_stores_nothing(
    front: tuple[str, int], state: Callable[[], Snapshot], host: str
) -> None:
    """DNS rebinding: a page on a name that resolves to 127.0.0.1 reaches the local front with
    its own name in Host. Every loopback caller is staff here, so such a request is refused."""
    # GIVEN a correctly signed delivery, and all that is stored
    body = json.dumps(typeform_payload()).encode()
    headers = [("Host", host), ("Content-Length", str(len(body)))]
    headers += [("Typeform-Signature", typeform_signature(body))]
    before = state()

    # WHEN it arrives naming a host that is not loopback
    status, reply = exchange(front, request("POST", "/webhooks/typeform", headers, body))

    # THEN it is forbidden, and nothing is stored
    assert status == 403, reply
    assert "127.0.0.1 or localhost" in json.loads(reply)["message"]
    assert_unchanged(before, state())


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "http://localhost.evil.example", "null", "file://"]
)
def test_a_staff_command_from_another_origin_is_refused_and_changes_nothing(
    front: tuple[str, int], state: Callable[[], Snapshot], origin: str
) -> None:
    # GIVEN a round-scheduling command sent by a page of another site, and all that is stored
    body = json.dumps({"round_id": "round-9", "title": "Omgång 9"}).encode()
    headers = [("Host", f"127.0.0.1:{front[1]}"), ("Origin", origin)]
    headers += [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    before = state()

    # WHEN it arrives
    status, reply = exchange(front, request("POST", "/rounds", headers, body))

    # THEN it is forbidden, and nothing changed
    assert status == 403, reply
    assert json.loads(reply)["message"] == "cross-origin requests to this local API are refused"
    assert_unchanged(before, state())


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]"])
def test_a_page_served_on_loopback_reads_the_api(front: tuple[str, int], host: str) -> None:
    # GIVEN a request from a page on the local stack's own origin
    headers = [("Host", f"{host}:{front[1]}"), ("Origin", f"http://{host}:{front[1]}")]

    # WHEN it reads the rounds
    status, reply = exchange(front, request("GET", "/rounds", headers))

    # THEN it is answered
    assert status == 200, reply
    assert "rounds" in json.loads(reply)


def test_head_is_answered_with_headers_only(front: tuple[str, int]) -> None:
    # WHEN a HEAD request comes for a route that takes GET only
    status, reply = exchange(front, request("HEAD", "/rounds", [("Host", "localhost")]))

    # THEN it is API Gateway's 404 for a method no route takes, with no body
    assert status == 404
    assert reply == b""
