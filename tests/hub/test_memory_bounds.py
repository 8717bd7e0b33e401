"""Large updates through a real hub: the worker's memory stays within the configured bounds.

A hub on a real gevent server takes updates of 1 MiB of data from its publish endpoint
while a subscriber reads them live. Memory is measured in the test process, which is the
worker: the hub's own accounting (:attr:`MemoryTransport.kept_bytes`), the Python heap
(:mod:`tracemalloc`: what is still allocated once every update went out) and the
process's resident set (``/proc/self/statm``).

Slack, documented (measured: about 0.1 MiB, 4 MiB and 5 MiB):

- heap at the end: :data:`HEAP_SLACK` over the history's bound, for what a finished
  publish leaves allocated besides the history (connection buffers, caches);
- heap at its peak: :data:`PEAK_SLACK` over the bound, for the copies of the one update
  in flight: the publisher's form, the server's body, parsed form, data and frame, the
  HTTP chunk written to the subscriber and what it reads (all in this one process);
- resident set: :data:`RSS_SLACK` over the bound, because the C allocator keeps the
  transient peak for reuse instead of returning it to the system at once.

The publisher is :mod:`http.client` and the test collects garbage only before measuring,
so what is measured is what the hub holds, not a client's garbage waiting for the
collector. :data:`BOUNDED_COUNT` updates of 1 MiB are published: the bounded run stays
far under what they weigh (and under twice that, what the history held before each
update was kept once). The unbounded run keeps every update, once: the heap measure sees
them, so the bounded run's assertions are sensitive to what they bound.
"""

from __future__ import annotations

import gc
import http.client
import os
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import gevent
import httpx
import pytest
from gevent.event import Event

from app.hub import Hub
from app.hub.size import update_size
from app.hub.transport.memory import MemoryTransport
from tests.hub.conftest import PUBLISHER

MiB = 1 << 20
DATA = MiB
BOUNDED_COUNT = 64
UNBOUNDED_COUNT = 32
TOPIC = "https://example.com/books/big"
HISTORY_BOUND = 8 * MiB
HEAP_SLACK = 2 * MiB
PEAK_SLACK = 8 * DATA
RSS_SLACK = 16 * MiB
PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE


@dataclass
class Usage:
    heap: int = 0
    """Bytes still allocated (traced) at the end, over the start."""
    peak: int = 0
    """The most allocated at once meanwhile, over the start."""
    rss: int = 0
    """Resident set growth."""


@contextmanager
def measured() -> Iterator[Usage]:
    usage = Usage()
    gc.collect()
    rss = _rss()
    tracemalloc.start()
    start = tracemalloc.get_traced_memory()[0]
    try:
        yield usage
        gc.collect()
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    usage.heap, usage.peak, usage.rss = current - start, peak - start, _rss() - rss


class Reader:
    """A live subscriber to :data:`TOPIC`, counting the bytes it receives, keeping none."""

    def __init__(self, hub_url: str) -> None:
        self.received = 0
        self._ready = Event()
        self._greenlet = gevent.spawn(self._read, hub_url)
        assert self._ready.wait(10), "the subscription did not open"

    def _read(self, hub_url: str) -> None:
        timeout = httpx.Timeout(10.0, read=None)
        with (
            httpx.Client(timeout=timeout) as http,
            http.stream("GET", hub_url, params={"topic": TOPIC}) as response,
        ):
            assert response.status_code == 200
            self._ready.set()
            for chunk in response.iter_raw():
                self.received += len(chunk)

    def wait_for(self, total: int) -> None:
        with gevent.Timeout(60, AssertionError(f"received {self.received} of {total}")):
            while self.received < total:
                gevent.sleep(0.01)

    def close(self) -> None:
        self._greenlet.kill()


def _publish_large_updates(hub_url: str, reader: Reader, count: int) -> int:
    """Publish ``count`` updates of :data:`DATA` bytes; return the bytes of one frame.

    With :mod:`http.client` on one connection: it keeps nothing of a request once it is
    answered, where an httpx response holds its request's body in a reference cycle
    until the garbage collector runs, which would count the client's garbage as the
    worker's memory.
    """
    parts = urlsplit(hub_url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=10)
    headers = {
        "Authorization": f"Bearer {PUBLISHER}",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    sent = 0
    try:
        for number in range(count):
            update_id = f"u{number:04d}"
            form = urlencode({"topic": TOPIC, "id": update_id, "data": "x" * DATA}).encode()
            connection.request("POST", parts.path, body=form, headers=headers)
            response = connection.getresponse()
            answer = response.read()
            assert response.status == 200, answer
            sent += len(f"id: {update_id}\ndata: \n\n") + DATA
    finally:
        connection.close()
    reader.wait_for(len(b":\n") + sent)
    return sent // count


def _run(
    live_hub: Callable[..., tuple[str, Hub]], history_bytes: int, count: int
) -> tuple[Usage, MemoryTransport, int]:
    hub_url, hub = live_hub(history_size=1000, history_bytes=history_bytes)
    transport = hub.transport
    assert isinstance(transport, MemoryTransport)
    reader = Reader(hub_url)
    try:
        with measured() as usage:
            frame = _publish_large_updates(hub_url, reader, count)
    finally:
        reader.close()
    return usage, transport, frame


def _accounting_is_exact(transport: MemoryTransport) -> None:
    kept = transport.kept()
    assert transport.kept_bytes == sum(len(frame) + len(TOPIC) for _update, frame in kept)
    assert all(update.data == "" for update, _frame in kept)
    assert all(
        update_size(update) == len(TOPIC) + len(b"id: \ndata: \n\n") + len(update.id)
        for update, _frame in kept
    )


def test_history_bounded_in_bytes_bounds_the_worker(
    live_hub: Callable[..., tuple[str, Hub]],
) -> None:
    bound = HISTORY_BOUND
    usage, transport, frame = _run(live_hub, bound, BOUNDED_COUNT)
    assert transport.kept_bytes <= bound
    assert len(transport.kept()) == bound // (frame + len(TOPIC))
    _accounting_is_exact(transport)
    assert usage.heap <= bound + HEAP_SLACK, usage
    assert usage.peak <= bound + PEAK_SLACK, usage
    assert usage.rss <= bound + RSS_SLACK, usage
    assert bound + RSS_SLACK < BOUNDED_COUNT * frame  # what it would be without the bound


def test_without_a_byte_bound_each_update_is_kept_once(
    live_hub: Callable[..., tuple[str, Hub]],
) -> None:
    usage, transport, frame = _run(live_hub, 1 << 30, UNBOUNDED_COUNT)
    assert len(transport.kept()) == UNBOUNDED_COUNT
    _accounting_is_exact(transport)
    kept = UNBOUNDED_COUNT * frame
    assert kept <= usage.heap <= kept + HEAP_SLACK, usage  # twice ``kept`` held two copies


@pytest.mark.parametrize("line_breaks", [False, True])
def test_publish_endpoint_refuses_an_update_over_the_limit(
    live_hub: Callable[..., tuple[str, Hub]], client: httpx.Client, line_breaks: bool
) -> None:
    limit = 64 * 1024
    hub_url, hub = live_hub(max_update_size=limit)
    # 40 KiB of line feeds is a 280 KiB frame: the size is the frame's, not the form's.
    data = "\n" * (40 * 1024) if line_breaks else "x" * limit
    response = client.post(
        hub_url,
        data={"topic": TOPIC, "id": "big", "data": data},
        headers={"Authorization": f"Bearer {PUBLISHER}"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    size = len(b"id: big\ndata: \n\n") + (7 * len(data) if line_breaks else len(data))
    assert response.text == (
        f"update too large: {size + len(TOPIC)} bytes (SSE frame and topics), more than "
        f"MERCURE_MAX_UPDATE_SIZE={limit}\n"
    )
    assert hub.transport.subscribers()[0] == "earliest"  # nothing was dispatched
    fits = client.post(
        hub_url,
        data={"topic": TOPIC, "id": "fits", "data": "x" * (limit // 2)},
        headers={"Authorization": f"Bearer {PUBLISHER}"},
    )
    assert fits.status_code == 200
