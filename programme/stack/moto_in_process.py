"""The local stack's own DynamoDB, DynamoDB Streams and KMS calls reach moto in this process,
not through its HTTP server.

moto's server runs in the stack's process (`ThreadedMotoServer`) and serves the same backends
its decorator mode does. Over HTTP, each call of a handler's boto3 client cost a TCP
connection (werkzeug's server answers every request with `Connection: close`), a new server
thread, werkzeug's request parsing, Flask's routing and moto's backend lookup by host, on top
of the work itself: in a burst of signed applications about half the stack's CPU time.

`dispatch_in_process(moto_url)` registers a `before-send` hook on every botocore client made
afterwards in this process: a request to `moto_url` for one of `SERVICES` is handed to
moto's response handler for that service directly, as moto's own decorator mode does it
(`moto.core.botocore_stubber`), and its answer returned to botocore as the HTTP answer.
Everything botocore does before sending (parameter validation, serialisation, signing) and
after (parsing, errors, retries) is unchanged, and so is everything moto does once the
request reaches its handler: the DynamoDB lock (`moto_dynamodb`) and the journal
(`journal`) are on that handler. Other services (SQS, Step Functions), other processes
(the AWS CLI, `programme rebuild`) and requests to any other endpoint still go over HTTP.

moto also lists its response class's methods with `inspect.getmembers` on every request, to
find the action's; `dispatch_in_process` remembers that list per class (a class's functions
do not change while the stack runs), for the server's requests too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

import boto3
import moto.core.responses as moto_responses
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.handlers import BUILTIN_HANDLERS
from moto.core.botocore_stubber import MockRawResponse
from moto.core.request import normalize_request
from moto.dynamodb.responses import DynamoHandler
from moto.dynamodbstreams.responses import DynamoDBStreamsHandler
from moto.kms.responses import KmsResponse
from werkzeug.exceptions import HTTPException

Dispatch = Callable[..., Any]

SERVICES: Final[Mapping[str, Dispatch]] = {
    "dynamodb": DynamoHandler.dispatch,
    "dynamodb-streams": DynamoDBStreamsHandler.dispatch,
    "kms": KmsResponse.dispatch,
}
"""By botocore's event name for the service (its service id, hyphenated)."""


def answer(dispatch: Dispatch, request: AWSPreparedRequest) -> tuple[int, dict[str, str], bytes]:
    """What moto's server would answer `request` with: status, headers and body."""
    normalized = normalize_request(request)
    try:
        status, headers, body = dispatch(normalized, normalized.url, normalized.headers)
    except HTTPException as error:
        status, headers, body = error.code, dict(error.get_headers()), error.get_body()
    if isinstance(body, str):
        body = body.encode("utf-8")
    return int(status), {str(k): str(v) for k, v in dict(headers).items()}, bytes(body)


class InProcess:
    """The `before-send` hook: a request to moto's URL answered by moto's handler here."""

    def __init__(self, moto_url: str) -> None:
        self.base = moto_url.rstrip("/")
        self.calls = 0

    def __call__(
        self, request: AWSPreparedRequest, event_name: str = "", **_: Any
    ) -> AWSResponse | None:
        url = str(request.url)
        if url != self.base and not url.startswith(self.base + "/"):
            return None
        parts = event_name.split(".")
        dispatch = SERVICES.get(parts[1]) if len(parts) > 2 else None
        if dispatch is None:
            return None
        self.calls += 1
        status, headers, body = answer(dispatch, request)
        return AWSResponse(url, status, headers, MockRawResponse(body))  # type: ignore[arg-type]


def remembered(method_names: Callable[[object], list[str]]) -> Callable[[object], list[str]]:
    """`method_names_from_class`, computed once per class."""
    known: dict[object, list[str]] = {}

    def names(cls: object) -> list[str]:
        found = known.get(cls)
        if found is None:
            found = known[cls] = method_names(cls)
        return found

    names.__wrapped__ = method_names  # type: ignore[attr-defined]
    return names


def dispatch_in_process(moto_url: str) -> Callable[[], None]:
    """Route this process's botocore clients made from now on to moto's handlers directly when
    they call `moto_url`; returns the function that stops it (for clients made after)."""
    hook = InProcess(moto_url)
    entry = ("before-send", hook)
    BUILTIN_HANDLERS.append(entry)  # for every botocore session made from now on
    default = boto3.DEFAULT_SESSION._session if boto3.DEFAULT_SESSION is not None else None
    if default is not None:  # `boto3.client(...)`'s, if it was made already
        default.register("before-send", hook)  # type: ignore[arg-type]
    listing = moto_responses.method_names_from_class  # type: ignore[attr-defined]
    moto_responses.method_names_from_class = remembered(listing)  # type: ignore[attr-defined,assignment]

    def undo() -> None:
        if entry in BUILTIN_HANDLERS:
            BUILTIN_HANDLERS.remove(entry)
        if default is not None:
            default.unregister("before-send", hook)  # type: ignore[arg-type]
        moto_responses.method_names_from_class = listing  # type: ignore[attr-defined]

    return undo
