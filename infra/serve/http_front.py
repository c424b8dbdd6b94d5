"""The local HTTP API: turns requests into API Gateway v2 events for the real handlers.

One lock per function: a Lambda container serves one request at a time, and the Powertools
resolvers keep the current event on a module-level app, so two requests must never share a
handler at once (the same guarantee Lambda gives).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from infra.serve.apigw import LambdaContext, http_api_event, response_body
from infra.serve.routes import LambdaHandler, Route, find_route, load_handler

log = logging.getLogger("programme.http")

MAX_REQUEST_BYTES = 10 * 1024 * 1024  # API Gateway HTTP API's payload limit
LOCAL_STAFF_ARN = "arn:aws:iam::123456789012:user/local-staff"


class LocalHttpApi:
    """The routes of the template, each bound to its function's handler."""

    def __init__(self, routes: Sequence[Route]) -> None:
        self.routes = list(routes)
        self._handlers: dict[str, LambdaHandler] = {}
        self._locks: dict[str, threading.Lock] = {
            route.function: threading.Lock() for route in routes
        }

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
            query=dict(parse_qsl(split.query)),
            path_parameters=parameters,
            route_key=route.route_key,
            source_ip=source_ip,
        )
        if route.iam_auth:  # locally every caller on loopback is staff
            event["requestContext"]["authorizer"] = {"iam": {"userArn": LOCAL_STAFF_ARN}}
        with self._locks[route.function]:
            handler = self._handler(route)
            try:
                response = handler(event, LambdaContext(function_name=route.function))
            except Exception:  # as API Gateway does: a crashed function is a bare 500
                log.exception("%s crashed on %s %s", route.function, method, split.path)
                return (
                    500,
                    {"content-type": "application/json"},
                    b'{"message":"Internal Server Error"}',
                )
        return _proxy_response(response)

    def _handler(self, route: Route) -> LambdaHandler:
        if route.handler not in self._handlers:
            self._handlers[route.handler] = load_handler(route.handler)
        return self._handlers[route.handler]


def _proxy_response(response: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    headers = {str(k).lower(): str(v) for k, v in (response.get("headers") or {}).items()}
    for name, values in (response.get("multiValueHeaders") or {}).items():
        headers[str(name).lower()] = ", ".join(str(v) for v in values)
    return int(response.get("statusCode", 200)), headers, response_body(response)


class _RequestHandler(BaseHTTPRequestHandler):
    server: LocalHttpServer
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        started = time.perf_counter()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_REQUEST_BYTES:
            self._reply(
                413, {"content-type": "application/json"}, b'{"message":"Request Entity Too Large"}'
            )
            self.close_connection = True
            return
        body = self.rfile.read(length) if length else b""
        headers = dict(self.headers.items())
        status, reply_headers, reply = self.server.api.invoke(
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
    daemon_threads = True

    def __init__(self, address: tuple[str, int], api: LocalHttpApi) -> None:
        super().__init__(address, _RequestHandler)
        self.api = api
