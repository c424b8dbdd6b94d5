"""Powertools' Tracer for the HTTP entry points, importing the X-Ray SDK only when it traces.

`Tracer()` imports `aws_xray_sdk.core` (and through its sampling connector botocore's client
machinery) even where it then turns itself off: outside Lambda, under `sam local`, with
`POWERTOOLS_TRACE_DISABLED` — about 100-190 ms of every cold start there (bench/cold_start.py).
There the Tracer gets a provider that records nothing instead of the X-Ray recorder, and is
otherwise Powertools' own: the handlers are decorated the same way everywhere, and a test
can still swap in a recording provider to see what would be sent.

Where Powertools traces (on Lambda with `Tracing: Active`) it is `Tracer()` unchanged: the
X-Ray recorder, botocore patched, the handler's subsegment, cold-start annotation and all.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment

if TYPE_CHECKING:
    import numbers
    import traceback
    from collections.abc import AsyncIterator


def tracing_enabled() -> bool:
    """Whether Powertools would trace here: on Lambda, not under SAM CLI or Chalice locally,
    and `POWERTOOLS_TRACE_DISABLED` not true (its own rule, asked of it)."""
    return not Tracer._is_tracer_disabled()  # its rule, not a copy of it


def tracer() -> Tracer:
    """The entry point's Tracer: X-Ray's where tracing is on, a silent one elsewhere."""
    if tracing_enabled():
        return Tracer()
    return Tracer(disabled=True, provider=Untraced())


class _Unrecorded(BaseSegment):
    """A subsegment nobody sends: every call is accepted and dropped."""

    def close(self, end_time: int | None = None) -> None:
        pass

    def add_subsegment(self, subsegment: Any) -> None:
        pass

    def remove_subsegment(self, subsegment: Any) -> None:
        pass

    def put_annotation(self, key: str, value: str | numbers.Number | bool) -> None:
        pass

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        pass

    def add_exception(
        self, exception: BaseException, stack: list[traceback.StackSummary], remote: bool = False
    ) -> None:
        pass


class Untraced(BaseProvider):
    """Stands in for the X-Ray recorder where tracing is off, as its disabled SDK would."""

    @contextmanager
    def in_subsegment(self, name: str | None = None, **kwargs: Any) -> Iterator[BaseSegment]:
        yield _Unrecorded()

    @asynccontextmanager
    async def in_subsegment_async(
        self, name: str | None = None, **kwargs: Any
    ) -> AsyncIterator[BaseSegment]:
        yield _Unrecorded()

    def put_annotation(self, key: str, value: str | numbers.Number | bool) -> None:
        pass

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        pass

    def patch(self, modules: Sequence[str]) -> None:
        pass

    def patch_all(self) -> None:
        pass
