"""A small real SSE subscriber for the hub tests, built on httpx + httpx-sse.

``Subscription`` opens a streaming GET, exposes the response (status, headers) and reads
events one at a time with a read timeout, so a missing event fails the test instead of
hanging it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from types import TracebackType

import httpx
from httpx_sse import EventSource, ServerSentEvent


class Subscription:
    """An open event stream on the hub."""

    def __init__(
        self,
        client: httpx.Client,
        url: str,
        topics: Sequence[str],
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        cookies: Mapping[str, str] | None = None,
        query: Sequence[tuple[str, str]] = (),
    ) -> None:
        """``topics`` become 0.x ``topic`` parameters; ``query`` adds any pairs (1.0
        ``match`` parameters among them), then ``params``."""
        pairs: list[tuple[str, str]] = [("topic", topic) for topic in topics]
        pairs.extend(query)
        pairs.extend((params or {}).items())
        all_headers = {"Accept": "text/event-stream", **(headers or {})}
        if cookies:
            all_headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
        request = client.build_request("GET", url, params=pairs, headers=all_headers)
        self.response = client.send(request, stream=True)
        self._events: Iterator[ServerSentEvent] | None = None

    def __enter__(self) -> Subscription:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self.response.close()

    def next_event(self) -> ServerSentEvent:
        """The next event (comments are skipped); fails on timeout or end of stream."""
        if self._events is None:
            self._events = EventSource(self.response).iter_sse()
        return next(self._events)

    def events(self, count: int) -> list[ServerSentEvent]:
        return [self.next_event() for _ in range(count)]


def publish(
    client: httpx.Client,
    url: str,
    token: str,
    **fields: str | Sequence[str],
) -> httpx.Response:
    """POST a form to the hub with a Bearer token; sequences repeat the field."""
    data: list[tuple[str, str]] = []
    for name, value in fields.items():
        if isinstance(value, str):
            data.append((name, value))
        else:
            data.extend((name, item) for item in value)
    return client.post(
        url,
        content=httpx.QueryParams(data).__str__().encode(),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
