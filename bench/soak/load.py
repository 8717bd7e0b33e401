"""The load of a soak: REST writers and SSE subscribers, greenlets of one gevent process.

Writers (:class:`Writer`) create, patch and delete books as an administrator, each on a
fixed schedule. Every write has a sequence number that it puts in the book's title
(``soak <seq>``), so the update that a create or a patch publishes names its write; a
delete publishes only ``{"@id": "/books/<id>"}``, which names it too because each book is
deleted once and ids are never reused (see :meth:`Ledger.deletable`). Each writer only
touches its own books, one request at a time, so its writes to one book commit in order.
A write whose answer is lost (the connection closed under it) or that is answered with
an error is read back (:meth:`Writer.resolve`): the ledger always knows what committed.

Subscribers (:class:`Subscriber`) are raw-socket HTTP/1.1 SSE clients that behave like
``EventSource``: after their stream ends, or a connection fails, they wait the
reconnection time (3 s, or what the last ``retry:`` field said) and reconnect with
``Last-Event-ID`` set to the last id received. Each subscribes to one shard of the books:
the URI template ``<origin>/books/{n}<d>`` matches the books whose id ends with the digit
``d`` (``<origin>/books/{id}``, every book, with one shard).
"""

from __future__ import annotations

import json
import random
import socket
import time
from array import array
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import quote

import gevent
import httpx
from gevent.event import Event

RECONNECT_SECONDS = 3.0
"""EventSource's usual reconnection time before a ``retry:`` field sets another."""
READ_TIMEOUT = 120.0
"""A stream silent for this long (three heartbeats) is taken as dead."""
REQUEST_TIMEOUT = 30.0
RESOLVE_SECONDS = 60.0
RESOLVE_DELAY = 1.0
TITLE_PREFIX = "soak "


@dataclass
class Write:
    """One REST write and what became of it."""

    seq: int
    op: str  # create, patch or delete
    book: int | None
    started: float
    answered: float | None = None
    """``time.monotonic()`` when the answer arrived: the commit time latencies start from."""
    status: int | None = None
    """The HTTP status, or None when the answer was lost."""
    committed: bool | None = None
    """None while unknown (an answer lost and the read-back failed too)."""


@dataclass
class Ledger:
    """Every write of the run, and the figures of the answers."""

    writers: int
    writes: list[Write] = field(default_factory=list)
    """Write ``seq`` is ``writes[seq - 1]``; seqs start at 1 (tag 0 means unknown)."""
    deleted: dict[int, int] = field(default_factory=dict)
    """book id -> the seq of the write that deleted it."""
    max_book: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    lost_answers: int = 0
    behind: int = 0
    """Writes issued more than a second after their slot (the gateway was slow)."""

    def new(self, op: str, book: int | None) -> Write:
        write = Write(len(self.writes) + 1, op, book, time.monotonic())
        self.writes.append(write)
        return write

    def created(self, book: int) -> None:
        self.max_book = max(self.max_book, book)

    def deletable(self, book: int) -> bool:
        """SQLite gives a new row the largest id plus one, so deleting the book with the
        largest id could give that id again. Deleting only books below the largest id a
        create has answered (in-flight creates get larger ones) never frees the largest."""
        return book <= self.max_book - self.writers


def title_of(seq: int) -> str:
    return f"{TITLE_PREFIX}{seq}"


class Writer:
    """One greenlet's share of the writes: ``period`` seconds apart until ``end``."""

    def __init__(
        self,
        base_url: str,
        token: str,
        ledger: Ledger,
        *,
        seed: int,
        start: float,
        period: float,
        end: float,
    ) -> None:
        self.ledger = ledger
        self.random = random.Random(seed)
        self.start = start
        self.period = period
        self.end = end
        self.books: list[int] = []
        self.client = httpx.Client(
            base_url=base_url,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=REQUEST_TIMEOUT,
        )

    def run(self) -> None:
        slot = self.start
        try:
            while slot < self.end:
                now = time.monotonic()
                if slot > now:
                    gevent.sleep(slot - now)
                elif now - slot > 1.0:
                    self.ledger.behind += 1
                    slot = now  # no burst to catch up: the rate stays the rate
                self.one()
                slot += self.period
        finally:
            self.client.close()

    def one(self) -> None:
        deletable = [book for book in self.books if self.ledger.deletable(book)]
        draw = self.random.random()
        if len(self.books) < 3 or draw < 0.35:
            self.create()
        elif draw < 0.75 or not deletable:
            self.patch(self.random.choice(self.books))
        else:
            self.delete(self.random.choice(deletable))

    def create(self) -> None:
        write = self.ledger.new("create", None)
        body = {"title": title_of(write.seq), "author": "Soak"}
        response = self.send(write, "POST", "/books", json=body)
        if response is not None and response.status_code == 201:
            write.book = int(response.json()["id"])
            write.committed = True
        else:
            self.resolve(write)
        if write.committed and write.book is not None:
            self.ledger.created(write.book)
            self.books.append(write.book)

    def patch(self, book: int) -> None:
        write = self.ledger.new("patch", book)
        body = json.dumps({"title": title_of(write.seq)})
        headers = {"Content-Type": "application/merge-patch+json"}
        response = self.send(write, "PATCH", f"/books/{book}", content=body, headers=headers)
        if response is not None and response.status_code == 200:
            write.committed = True
        else:
            self.resolve(write)

    def delete(self, book: int) -> None:
        write = self.ledger.new("delete", book)
        response = self.send(write, "DELETE", f"/books/{book}")
        if response is not None and response.status_code == 204:
            write.committed = True
        else:
            self.resolve(write)
        if write.committed:
            self.books.remove(book)
            self.ledger.deleted[book] = write.seq

    def send(
        self, write: Write, method: str, path: str, **options: object
    ) -> httpx.Response | None:
        try:
            response = self.client.request(method, path, **options)  # type: ignore[arg-type]
        except httpx.TransportError:
            self.ledger.lost_answers += 1
            return None
        write.answered = time.monotonic()
        write.status = response.status_code
        self.ledger.statuses[response.status_code] += 1
        return response

    def resolve(self, write: Write) -> None:
        """Read back whether ``write`` committed (its answer was lost or an error), a
        moment later: a request the server still holds may yet commit."""
        deadline = time.monotonic() + RESOLVE_SECONDS
        gevent.sleep(RESOLVE_DELAY)
        while time.monotonic() < deadline:
            try:
                write.committed = self.read_back(write)
                return
            except (httpx.HTTPError, ValueError):
                gevent.sleep(0.5)

    def read_back(self, write: Write) -> bool:
        title = title_of(write.seq)
        if write.op == "create":
            response = self.client.get("/books", params={"title": title, "itemsPerPage": 100})
            response.raise_for_status()
            found = [item["id"] for item in response.json() if item["title"] == title]
            if found:
                write.book = int(found[0])
            return bool(found)
        response = self.client.get(f"/books/{write.book}")
        if write.op == "delete":
            if response.status_code not in (200, 404):
                raise ValueError(f"read-back answered {response.status_code}")
            return response.status_code == 404
        response.raise_for_status()
        return bool(response.json()["title"] == title)


@dataclass
class StreamFigures:
    """What all subscribers saw of the hub, shared by their greenlets."""

    subscribers: int
    opened: int = 0
    all_opened: Event = field(default_factory=Event)
    streams: int = 0
    reconnects: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    earliest: int = 0
    """Resumptions the hub answered ``Last-Event-ID: earliest``: it no longer knew the id."""
    come_back: int = 0
    """Streams that ended at once with only a ``retry`` (the transport was unreachable)."""
    first_ids: dict[int, str] = field(default_factory=dict)
    """tag -> the SSE id it was first delivered with, to name updates in the report."""
    unknown: int = 0


class Dechunker:
    """Incremental decoder of an HTTP/1.1 chunked body."""

    __slots__ = ("buffer", "finished", "left", "state")

    def __init__(self) -> None:
        self.buffer = b""
        self.left = 0
        self.state = 0  # 0: size line, 1: data, 2: CRLF after data
        self.finished = False

    def feed(self, data: bytes) -> bytes:
        buffer = self.buffer + data
        out = []
        while True:
            if self.state == 1:
                if not buffer:
                    break
                piece = buffer[: self.left]
                out.append(piece)
                buffer = buffer[len(piece) :]
                self.left -= len(piece)
                if self.left:
                    break
                self.state = 2
            elif self.state == 2:
                if len(buffer) < 2:
                    break
                if buffer[:2] != b"\r\n":
                    raise ConnectionError("malformed chunked body")
                buffer = buffer[2:]
                self.state = 0
            else:
                end = buffer.find(b"\r\n")
                if end < 0:
                    break
                size = int(buffer[:end].split(b";")[0], 16)
                buffer = buffer[end + 2 :]
                if size == 0:
                    self.finished = True
                    break
                self.left = size
                self.state = 1
        self.buffer = buffer
        return b"".join(out)


def shard_selector(origin: str, shard: int, shards: int) -> str:
    """The topic selector of ``shard``: books whose id ends with that digit."""
    if shards == 1:
        return f"{origin}/books/{{id}}"
    return f"{origin}/books/{{n}}{shard}"


class Subscriber:
    """One ``EventSource``-like subscriber; deliveries are kept as (tag, time) arrays.

    A tag is the seq of a create or a patch (from the title) or minus the book id of a
    delete, resolved through the ledger once the run is over.
    """

    def __init__(
        self,
        index: int,
        shard: int,
        host: str,
        port: int,
        selector: str,
        figures: StreamFigures,
        stop: Event,
    ) -> None:
        self.index = index
        self.shard = shard
        self.host = host
        self.port = port
        self.path = f"/.well-known/mercure?topic={quote(selector, safe='')}"
        self.figures = figures
        self.stop = stop
        self.tags = array("q")
        self.times = array("d")
        self.last_event_id: str | None = None
        self.retry = RECONNECT_SECONDS
        self.opened = False
        self.attempts: list[tuple[float, float, int, str | None, str | None]] = []
        """Per request: sent at, headers at (0 when none came), status, and the
        ``Last-Event-ID`` sent and answered."""
        self.earliest_at: list[float] = []
        """When the hub answered ``earliest`` to a resumption (it no longer knew the id)."""

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.stream()
            except (OSError, ConnectionError, ValueError) as error:
                self.figures.errors[type(error).__name__] += 1
            if self.stop.wait(self.retry):
                return
            self.figures.reconnects += 1

    def request(self) -> bytes:
        lines = [
            f"GET {self.path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            "Accept: text/event-stream",
            "Cache-Control: no-cache",
        ]
        if self.last_event_id is not None:
            lines.append(f"Last-Event-ID: {self.last_event_id}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    def stream(self) -> None:
        sent_at = time.monotonic()
        sent = self.last_event_id
        self.attempts.append((sent_at, 0.0, 0, sent, None))
        sock = socket.create_connection((self.host, self.port), timeout=REQUEST_TIMEOUT)
        try:
            sock.sendall(self.request())
            sock.settimeout(READ_TIMEOUT)
            buffer = b""
            while b"\r\n\r\n" not in buffer:
                chunk = sock.recv(65536)
                if not chunk:
                    raise ConnectionError("closed before the headers")
                buffer += chunk
            head, _, body = buffer.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split()[1])
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            self.figures.statuses[status] += 1
            answered = headers.get("last-event-id")
            self.attempts[-1] = (sent_at, time.monotonic(), status, sent, answered)
            if status != 200:
                return
            self.figures.streams += 1
            if sent is not None and answered == "earliest" and sent != "earliest":
                self.figures.earliest += 1
                self.earliest_at.append(time.monotonic())
            chunked = headers.get("transfer-encoding", "").lower() == "chunked"
            self.read(sock, body, Dechunker() if chunked else None)
        finally:
            sock.close()

    def read(self, sock: socket.socket, body: bytes, dechunker: Dechunker | None) -> None:
        pending = b""
        data = body
        events = 0
        retry_only = False
        recv = sock.recv
        while True:
            if dechunker is not None:
                data = dechunker.feed(data)
            pending += data
            end = pending.rfind(b"\n\n")
            if end >= 0:
                now = time.monotonic()
                for block in pending[:end].split(b"\n\n"):
                    kind = self.block(block, now)
                    events += kind == 1
                    retry_only = retry_only or kind == 2
                pending = pending[end + 2 :]
                if not self.opened:
                    self.open()
            elif not self.opened and pending.startswith(b":"):
                self.open()
            if dechunker is not None and dechunker.finished:
                break
            data = recv(65536)
            if not data:
                break
        if events == 0 and retry_only:
            self.figures.come_back += 1

    def open(self) -> None:
        self.opened = True
        self.figures.opened += 1
        if self.figures.opened == self.figures.subscribers:
            self.figures.all_opened.set()

    def block(self, block: bytes, now: float) -> int:
        """Handle one SSE block: 1 for an event, 2 for a ``retry`` alone, else 0."""
        event_id = None
        data = []
        retry = False
        for line in block.split(b"\n"):
            if line.startswith(b"data:"):
                data.append(line[5:].removeprefix(b" "))
            elif line.startswith(b"id:"):
                event_id = line[3:].removeprefix(b" ").decode()
            elif line.startswith(b"retry:"):
                value = line[6:].strip()
                if value.isdigit():
                    self.retry = int(value) / 1000
                    retry = True
        if event_id is not None:
            self.last_event_id = event_id
        if not data:
            return 2 if retry else 0
        tag = self.tag(b"\n".join(data))
        self.tags.append(tag)
        self.times.append(now)
        if event_id is not None and tag not in self.figures.first_ids:
            self.figures.first_ids[tag] = event_id
        return 1

    def tag(self, data: bytes) -> int:
        try:
            document = json.loads(data)
            title = document.get("title")
            if title is None:
                return -int(str(document["@id"]).rsplit("/", 1)[1])
            if title.startswith(TITLE_PREFIX):
                return int(title[len(TITLE_PREFIX) :])
        except (ValueError, KeyError, AttributeError):
            pass
        self.figures.unknown += 1
        return 0
