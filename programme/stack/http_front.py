"""The local HTTP API: turns requests into API Gateway v2 events for the real handlers.

Requests are served on threads, but the handlers run one at a time process-wide (see
`programme.stack.functions`: Powertools keeps the current request in class-level state shared
by every resolver). Closing the server also closes the connections clients keep alive, so
no request thread outlives it.

The requests waiting for a handler take their turns in the order they arrived (`FifoLock`):
Python's locks are not fair, and behind the one invocation lock a burst's unlucky requests
waited many times as long as the rest (a p99 twice the p50). So at most one request of the
front at a time waits for the invocation lock, beside the stream pump and the scheduler.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from programme.stack.apigw import LambdaContext, http_api_event, response_body
from programme.stack.routes import LambdaHandler, Route, find_route

log = logging.getLogger("programme.http")

MAX_REQUEST_BYTES = 10 * 1024 * 1024  # API Gateway HTTP API's payload limit
_GATEWAY_JSON = {"content-type": "application/json"}
LOCAL_STAFF_ARN = "arn:aws:iam::123456789012:user/local-staff"
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
READY_PATH = "/ready"
"""Answered by the local front itself, not a handler (API Gateway has no such route); `/health`
is the template's own route, answered by the queries function."""


class FifoLock:
    """A lock handed to its waiters in the order they asked for it (not re-entrant)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held = False
        self._waiters: deque[threading.Lock] = deque()

    def __enter__(self) -> None:
        with self._lock:
            if not self._held:
                self._held = True
                return
            waiter = threading.Lock()
            waiter.acquire()
            self._waiters.append(waiter)
        waiter.acquire()  # released by the holder, handing the lock over

    def __exit__(self, *_: object) -> None:
        with self._lock:
            if self._waiters:
                self._waiters.popleft().release()  # still held: by the next in line now
            else:
                self._held = False


class LocalHttpApi:
    """The routes of the template, each bound to its function's handler."""

    def __init__(self, routes: Sequence[Route], functions: Mapping[str, LambdaHandler]) -> None:
        missing = {route.function for route in routes} - set(functions)
        if missing:
            raise ValueError(f"no function for the routes of {', '.join(sorted(missing))}")
        self.routes = list(routes)
        self._functions = dict(functions)
        self._turns = FifoLock()

    def invoke(
        self, method: str, target: str, headers: dict[str, str], body: bytes, source_ip: str
    ) -> tuple[int, dict[str, str], bytes]:
        split = urlsplit(target)
        try:
            route, parameters = find_route(self.routes, method, split.path)
        except LookupError:
            return 404, {"content-type": "application/json"}, b'{"message":"Not Found"}'
        event = http_api_event(
            method,
            split.path,
            body=body,
            headers=headers,
            query=_combined(parse_qsl(split.query)),
            path_parameters=parameters,
            route_key=route.route_key,
            source_ip=source_ip,
        )
        if route.iam_auth:  # locally every caller on loopback is staff
            event["requestContext"]["authorizer"] = {"iam": {"userArn": LOCAL_STAFF_ARN}}
        handler = self._functions[route.function]
        try:
            with self._turns:  # in order of arrival, then the invocation lock
                response = handler(event, LambdaContext(function_name=route.function))
        except Exception:  # as API Gateway does: a crashed function is a bare 500
            log.exception("%s crashed on %s %s", route.function, method, split.path)
            return 500, {"content-type": "application/json"}, b'{"message":"Internal Server Error"}'
        return _proxy_response(response)


def _host_name(host: str) -> str:
    """The name in a `Host` header (`127.0.0.1:8080`, `[::1]:8080`, `localhost`)."""
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _combined(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Repeated headers or query parameters as API Gateway passes them: one, comma-joined."""
    combined: dict[str, str] = {}
    for name, value in pairs:
        combined[name] = f"{combined[name]},{value}" if name in combined else value
    return combined


def _proxy_response(response: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    headers = {str(k).lower(): str(v) for k, v in (response.get("headers") or {}).items()}
    for name, values in (response.get("multiValueHeaders") or {}).items():
        headers[str(name).lower()] = ", ".join(str(v) for v in values)
    return int(response.get("statusCode", 200)), headers, response_body(response)


class _RequestHandler(BaseHTTPRequestHandler):
    server: LocalHttpServer
    protocol_version = "HTTP/1.1"
    timeout = 60  # an idle kept-alive connection is closed, as API Gateway does

    def __getattr__(self, name: str) -> Any:
        # Every method reaches the routes (HEAD, OPTIONS, TRACE, …), as on API Gateway, which
        # answers one no route takes with its JSON 404; http.server would answer 501 in HTML.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (a malformed request line, say) in JSON, not HTML."""
        self.close_connection = True
        if self.request_version == "HTTP/0.9":  # an unparsed request line: answer with a status
            self.request_version = "HTTP/1.0"
        body = json.dumps({"message": message or HTTPStatus(code).phrase}).encode()
        self.send_response(code, message)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.send_header("connection", "close")
        self.end_headers()
        if self.command != "HEAD" and code >= 200 and code not in (204, 304):
            self.wfile.write(body)

    def _serve(self) -> None:
        started = time.perf_counter()
        foreign = self._foreign()
        if foreign is not None:
            self._reply(403, _GATEWAY_JSON, json.dumps({"message": foreign}).encode())
            return
        if urlsplit(self.path).path == READY_PATH and self.command in {"GET", "HEAD"}:
            self._reply(*self._ready())
            return
        refused = self._unreadable()
        if refused is not None:  # the body's end is unknown: the connection cannot be reused
            self._reply(*refused)
            self.close_connection = True
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = _combined((name.lower(), value) for name, value in self.headers.items())
        api = self.server.api
        if api is None:
            raise RuntimeError("the server was started before its API was set")
        status, reply_headers, reply = api.invoke(
            self.command, self.path, headers, body, self.client_address[0]
        )
        self._reply(status, reply_headers, reply)
        log.info(
            "%s %s -> %d (%.0f ms)",
            self.command,
            self.path,
            status,
            (time.perf_counter() - started) * 1000,
        )

    def _ready(self) -> tuple[int, dict[str, str], bytes]:
        """200 `{"status": "ready"}` once everything is loaded (with `--demo`, round 3 too);
        until then 503 `{"status": "loading", "loading": <what>}`, with Retry-After."""
        loading = self.server.loading
        headers = {**_GATEWAY_JSON, "cache-control": "no-store"}
        if loading is None:
            return 200, headers, b'{"status":"ready"}'
        body = json.dumps({"status": "loading", "loading": loading}).encode()
        return 503, {**headers, "retry-after": "1"}, body

    def _foreign(self) -> str | None:
        """Why a request is refused for where it comes from, or None.

        Every caller on loopback counts as staff here, so a web page must not be able to send
        requests in their name: one whose `Host` is not a loopback name (DNS rebinding: a
        foreign name resolved to 127.0.0.1) or whose `Origin` is another site is refused.
        """
        host = (self.headers.get("Host") or "").strip().lower()
        if _host_name(host) not in LOOPBACK_NAMES:
            return "this local API answers requests for 127.0.0.1 or localhost only"
        origin = (self.headers.get("Origin") or "").strip().lower()
        if origin and origin != "null":
            split = urlsplit(origin)
            if split.scheme not in {"http", "https"} or split.hostname not in LOOPBACK_NAMES:
                return "cross-origin requests to this local API are refused"
        elif origin == "null":
            return "cross-origin requests to this local API are refused"
        return None

    def _unreadable(self) -> tuple[int, dict[str, str], bytes] | None:
        """The answer to a body this front will not read: over API Gateway's limit, of a length
        it cannot tell (chunked, which it does not decode), or with a malformed length."""
        if "Transfer-Encoding" in self.headers:
            return 411, _GATEWAY_JSON, b'{"message":"Length Required"}'
        lengths = {value.strip() for value in self.headers.get_all("Content-Length") or ["0"]}
        length = lengths.pop()
        if lengths or not (length.isascii() and length.isdigit()):  # int() would take "-5"
            return 400, _GATEWAY_JSON, b'{"message":"Bad Request"}'
        if int(length) > MAX_REQUEST_BYTES:
            return 413, _GATEWAY_JSON, b'{"message":"Request Entity Too Large"}'
        return None

    def _reply(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            if name not in {"content-length", "connection", "transfer-encoding"}:
                self.send_header(name, value)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one readable line per request is logged by _serve


class LocalHttpServer(ThreadingHTTPServer):
    """Serves the API until `shutdown()`; `server_close()` then ends every connection."""

    daemon_threads = False
    block_on_close = True  # server_close joins the request threads
    # socketserver's default backlog is 5: a burst of 50 clients connecting at once had 27 of
    # them reset (bench/burst.py). API Gateway never refuses a connection for that.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], api: LocalHttpApi | None = None) -> None:
        """Binds at once (a port in use raises its `OSError` here); serves `api`, which may be
        set later. Until `ready()`, `/ready` answers 503 saying what is still loading."""
        # Set before binding: a failed bind calls `server_close`, which reads them.
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self.api = api
        self.loading: str | None = "starting the local stack"
        super().__init__(address, _RequestHandler)

    def ready(self) -> None:
        """Everything is loaded: `/ready` answers 200 from now on."""
        self.loading = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        # An answer is written as its head, then its body: with Nagle's algorithm the body
        # waited for the client's delayed ACK of the head (up to 40 ms an answer).
        with contextlib.suppress(OSError):
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def server_close(self) -> None:
        """Wake every connection waiting for its next request, close, join their threads."""
        with self._connections_lock:
            open_connections = list(self._connections)
        for connection in open_connections:
            with contextlib.suppress(OSError):  # already closed by its client
                connection.shutdown(socket.SHUT_RDWR)
        super().server_close()  # ThreadingMixIn joins the request threads

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):  # the client left, or we stopped
            log.debug("connection from %s ended abruptly", client_address)
        else:
            log.exception("failed serving %s", client_address)
