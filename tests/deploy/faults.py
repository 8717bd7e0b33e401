"""Fault tests' helpers: a steady REST write load, a reconnecting subscriber, the verdict.

:class:`WriteLoad` runs a few greenlets that create and patch books as an administrator,
each write on a new connection (as independent clients make them) and each carrying a
title of its own, so every update a subscriber receives names the write it comes from.
A greenlet patches only books it created, one request at a time, so the order of its
answered writes to a book is the commit order of that book's changes.

Every write ends one of three ways: an HTTP answer (its status is kept), ``refused`` (the
connection was never made: nothing was sent, nothing committed) or ``unknown`` (the request
may have been sent but no answer came back). An unknown write may have committed; the
greenlet then leaves the book alone, so :meth:`WriteLoad.resolve` can tell afterwards from
the stored books whether it did.

:class:`Resubscriber` follows the reconnection rules of a browser's ``EventSource``: when
its stream ends or the hub cannot be reached it comes back, with ``Last-Event-ID`` set to
the id of the last event it received.

:func:`verdict` compares what a subscriber received with what was committed: each
committed write's title exactly once, no event id twice, optionally in commit order per
book. :func:`wait_for_empty_outbox` tells when every committed update has left the
gateway's outbox, after which a last write (the sentinel) tells when the stream is complete.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import gevent
import gevent.event
import httpx
import sqlalchemy as sa
from httpx_sse import EventSource

from tests.deploy.gateway import ADMIN, WAIT

JSONLD = "application/ld+json"
REFUSED = "refused"
UNKNOWN = "unknown"
SHOWN = 10
"""Entries shown per kind of discrepancy in a failure message."""
SETTLE = 40.0
"""Longest wait for the outbox to empty and the subscriber to catch up after the load."""
RECONNECT_PAUSE = 0.05


@dataclass
class Write:
    """One REST write of the load: ``outcome`` is the HTTP status, :data:`REFUSED` or
    :data:`UNKNOWN`; ``item`` the book's IRI (``None`` for a create without an answer)."""

    writer: int
    number: int
    method: str
    title: str
    author: str
    item: str | None = None
    outcome: int | str = UNKNOWN
    error: str = ""
    committed: bool | None = None
    """Whether the change is in the database: ``None`` until known (2xx: committed;
    refused or any other status: not; unknown: see :meth:`WriteLoad.resolve`)."""
    sent_at: float = 0.0
    ended_at: float = 0.0
    """When the request was sent and when it ended (``time.monotonic()``)."""

    def describe(self) -> str:
        where = f" {self.item}" if self.item else ""
        detail = f" ({self.error})" if self.error else ""
        return f"{self.method}{where} {self.title!r} -> {self.outcome}{detail}"


class WriteLoad:
    """``writers`` greenlets writing books to ``base_url`` until :meth:`stop`.

    ``seed`` makes each greenlet's choices (create or patch, which book) reproducible;
    ``label`` prefixes every title and author, so runs never mix.
    """

    def __init__(
        self,
        base_url: str,
        *,
        seed: int,
        label: str,
        writers: int = 4,
        verify: bool = True,
        create_share: float = 0.35,
    ) -> None:
        self.base_url = base_url
        self.seed = seed
        self.label = label
        self.verify = verify
        self.create_share = create_share
        self.writes: list[Write] = []
        self.started = time.monotonic()
        self.marks: list[tuple[float, str]] = []
        """What the test did meanwhile, and when (see :meth:`mark`)."""
        self._stopping = gevent.event.Event()
        self._greenlets = [gevent.spawn(self._run, index) for index in range(writers)]

    # -- the load ------------------------------------------------------------------------

    def _run(self, index: int) -> None:
        choices = random.Random(f"{self.seed}:{index}")
        books: list[str] = []
        number = 0
        while not self._stopping.is_set():
            number += 1
            if not books or choices.random() < self.create_share:
                write = self.create(index, number)
                if write.outcome == 201 and write.item is not None:
                    books.append(write.item)
            else:
                item = choices.choice(books)
                write = self.patch(index, number, item)
                if write.outcome == UNKNOWN:
                    books.remove(item)  # its last write decides: leave it alone
            if write.outcome in (REFUSED, UNKNOWN):
                self._stopping.wait(0.05)  # the server is away: no busy loop
            else:
                gevent.sleep(0)

    def create(self, writer: int, number: int, title: str | None = None) -> Write:
        """Create one book (its author names the write, for :meth:`resolve`)."""
        write = Write(
            writer,
            number,
            "POST",
            title or f"{self.label} w{writer} n{number}",
            f"{self.label} w{writer} n{number}.",
        )
        self.writes.append(write)
        body = {"title": write.title, "author": write.author}
        response = self._send(write, "POST", "/books", body, "application/ld+json")
        if response is not None and response.status_code == 201:
            write.item = str(response.json()["@id"])
        return write

    def patch(self, writer: int, number: int, item: str) -> Write:
        """Retitle the book ``item``."""
        write = Write(writer, number, "PATCH", f"{self.label} w{writer} n{number}", "", item)
        self.writes.append(write)
        self._send(write, "PATCH", item, {"title": write.title}, "application/merge-patch+json")
        return write

    def _send(
        self, write: Write, method: str, path: str, body: dict[str, str], content_type: str
    ) -> httpx.Response | None:
        headers = {
            "Accept": JSONLD,
            "Content-Type": content_type,
            "Authorization": f"Bearer {ADMIN}",
        }
        write.sent_at = time.monotonic()
        try:
            # A new connection for each write, as independent clients make them.
            response = httpx.request(
                method,
                f"{self.base_url}{path}",
                content=json.dumps(body).encode(),
                headers=headers,
                timeout=WAIT,
                verify=self.verify,
            )
        except httpx.ConnectError as error:
            write.outcome, write.error, write.committed = REFUSED, str(error), False
            return None
        except httpx.HTTPError as error:
            write.outcome, write.error = UNKNOWN, f"{type(error).__name__}: {error}"
            return None
        finally:
            write.ended_at = time.monotonic()
        write.outcome = response.status_code
        write.committed = 200 <= response.status_code < 300
        if not write.committed:
            write.error = response.text[:300]
        return response

    def mark(self, what: str) -> None:
        """Note a fault (or its end) with the time, for failure messages."""
        self.marks.append((time.monotonic(), what))

    def stop(self) -> None:
        self._stopping.set()
        gevent.joinall(self._greenlets, timeout=WAIT + 5)
        gevent.killall(self._greenlets)

    # -- progress and results -----------------------------------------------------------

    @property
    def answered(self) -> int:
        """Writes that got an answer (of any status)."""
        return sum(1 for write in self.writes if isinstance(write.outcome, int))

    def wait_for(self, answered: int, what: str = "") -> None:
        """Block until ``answered`` writes got an answer; fail after a deadline."""
        message = f"the load got only {self.answered} of {answered} answers {what}".rstrip()
        with gevent.Timeout(SETTLE, AssertionError(message)):
            while self.answered < answered:
                gevent.sleep(0.02)

    def failures(self) -> list[Write]:
        """Writes answered with another status than 2xx."""
        return [w for w in self.writes if isinstance(w.outcome, int) and not w.committed]

    def unanswered(self) -> list[Write]:
        return [w for w in self.writes if not isinstance(w.outcome, int)]

    def resolve(self) -> None:
        """Decide each unknown write from the stored books: a create committed when a book
        with its author exists, a patch when its book still has its title."""
        with httpx.Client(base_url=self.base_url, timeout=WAIT, verify=self.verify) as client:
            for write in self.writes:
                if write.outcome != UNKNOWN:
                    continue
                if write.method == "POST":
                    found = client.get(
                        "/books", params={"author": write.author}, headers={"Accept": JSONLD}
                    )
                    assert found.status_code == 200, found.text
                    members = [
                        book for book in found.json()["member"] if book["author"] == write.author
                    ]
                    write.committed = bool(members)
                    if members:
                        write.item = str(members[0]["@id"])
                else:
                    assert write.item is not None
                    book = client.get(write.item, headers={"Accept": JSONLD})
                    assert book.status_code == 200, book.text
                    write.committed = book.json()["title"] == write.title

    def committed(self) -> list[Write]:
        """The committed writes, each greenlet's in the order it made them."""
        assert all(write.committed is not None for write in self.writes), "resolve() first"
        return [write for write in self.writes if write.committed]

    def summary(self) -> str:
        outcomes = Counter(str(write.outcome) for write in self.writes)
        return f"seed {self.seed}: {len(self.writes)} writes, outcomes {dict(outcomes)}"

    def timeline(self) -> str:
        """The marks, in seconds since the first write."""
        origin = min((write.sent_at for write in self.writes), default=self.started)
        return ", ".join(f"{at - origin:.2f} s: {what}" for at, what in self.marks)


@dataclass(frozen=True)
class Received:
    """One event: its id, data, the connection (1, 2, ...) that brought it and when it
    arrived (``time.monotonic()``)."""

    id: str
    data: str
    connection: int
    at: float = field(default_factory=time.monotonic)

    @property
    def document(self) -> dict[str, object]:
        document: dict[str, object] = json.loads(self.data)
        return document


@dataclass
class Connection:
    """One subscribe request: the ``Last-Event-ID`` sent, the status and the
    ``Last-Event-ID`` answered (or the error that ended the attempt)."""

    sent: str | None
    status: int | None = None
    answered: str | None = None
    error: str = ""
    events: int = 0


@dataclass
class Resubscriber:
    """An SSE subscriber to ``topics`` at ``hub_url`` that reconnects as ``EventSource``
    does; read by a background greenlet until :meth:`close`."""

    hub_url: str
    topics: Sequence[str]
    last_event_id: str | None = None
    verify: bool = True
    events: list[Received] = field(default_factory=list)
    connections: list[Connection] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.opened = gevent.event.Event()
        self._client = httpx.Client(timeout=httpx.Timeout(WAIT, read=None), verify=self.verify)
        self._greenlet = gevent.spawn(self._run)
        with gevent.Timeout(WAIT, AssertionError(f"could not subscribe at {self.hub_url}")):
            self.opened.wait()

    def _run(self) -> None:
        while True:
            attempt = Connection(self.last_event_id)
            self.connections.append(attempt)
            headers = {"Accept": "text/event-stream"}
            if self.last_event_id is not None:
                headers["Last-Event-ID"] = self.last_event_id
            try:
                with self._client.stream(
                    "GET",
                    self.hub_url,
                    params=[("topic", topic) for topic in self.topics],
                    headers=headers,
                ) as response:
                    attempt.status = response.status_code
                    attempt.answered = response.headers.get("Last-Event-ID")
                    if response.status_code != 200:
                        attempt.error = response.read().decode(errors="replace")[:300]
                    else:
                        self.opened.set()
                        self._read(response, attempt, len(self.connections))
            except httpx.HTTPError as error:
                attempt.error = f"{type(error).__name__}: {error}"
            gevent.sleep(RECONNECT_PAUSE)

    def _read(self, response: httpx.Response, attempt: Connection, number: int) -> None:
        for event in EventSource(response).iter_sse():
            if not event.id and not event.data:
                continue  # only a retry hint
            if event.id:
                self.last_event_id = event.id
            self.events.append(Received(event.id, event.data, number))
            attempt.events += 1

    def titles(self) -> list[str]:
        return [str(event.document["title"]) for event in self.events]

    def wait_for_title(self, title: str, timeout: float = SETTLE) -> bool:
        with gevent.Timeout(timeout, False):
            while title not in self.titles():
                gevent.sleep(0.05)
            return True
        return False

    def failed_subscriptions(self) -> list[Connection]:
        """Subscribe requests answered with another status than 200."""
        return [c for c in self.connections if c.status is not None and c.status != 200]

    def close(self) -> None:
        self._greenlet.kill(block=True, timeout=2)
        self._client.close()


def verdict(
    committed: Sequence[Write],
    received: Sequence[Received],
    *,
    ordered: bool = False,
    tolerated: Collection[str] = (),
) -> list[str]:
    """What is wrong with ``received`` given the ``committed`` writes (empty: nothing):
    a missing or repeated title, an unknown title, a repeated event id and, when
    ``ordered``, a book whose updates arrived out of commit order (by first arrival).
    An update repeated with the same id is no problem when that id is ``tolerated``."""
    problems: list[str] = []
    expected = {write.title: write for write in committed}
    assert len(expected) == len(committed), "titles must be unique"
    titles = Counter(str(event.document["title"]) for event in received)
    ids = Counter(event.id for event in received)
    missing = [write for title, write in expected.items() if title not in titles]
    if missing:
        problems.append(
            f"{len(missing)} committed update(s) never received, e.g. "
            + "; ".join(write.describe() for write in missing[:SHOWN])
        )
    ids_of: dict[str, set[str]] = defaultdict(set)
    for event in received:
        ids_of[str(event.document["title"])].add(event.id)
    repeated = {
        title: count
        for title, count in titles.items()
        if count > 1 and not (len(ids_of[title]) == 1 and ids_of[title] <= set(tolerated))
    }
    if repeated:
        problems.append(f"{len(repeated)} title(s) received more than once: {_some(repeated)}")
    stray = [title for title in titles if title not in expected]
    if stray:
        problems.append(f"{len(stray)} title(s) received but not committed: {stray[:SHOWN]}")
    twice = {
        update_id: count
        for update_id, count in ids.items()
        if count > 1 and update_id not in tolerated
    }
    if twice:
        problems.append(f"{len(twice)} event id(s) received more than once: {_some(twice)}")
    wrong_item = [
        (event.document["@id"], expected[title].item)
        for event in received
        if (title := str(event.document["title"])) in expected
        and expected[title].item is not None
        and event.document["@id"] != expected[title].item
    ]
    if wrong_item:
        problems.append(f"updates about another book than written: {wrong_item[:SHOWN]}")
    if ordered:
        problems += _order_problems(committed, received)
    return problems


def _order_problems(committed: Sequence[Write], received: Sequence[Received]) -> list[str]:
    written: dict[str, list[str]] = defaultdict(list)
    for write in committed:
        if write.item is not None:
            written[write.item].append(write.title)
    seen: dict[str, list[str]] = defaultdict(list)
    arrival: dict[str, float] = {}
    for event in received:
        titles = seen[str(event.document["@id"])]
        if (title := str(event.document["title"])) not in titles:
            titles.append(title)  # repeats are reported (or tolerated) elsewhere
            arrival[title] = event.at
    disordered = [
        item
        for item, titles in written.items()
        if seen[item] != titles and sorted(seen[item]) == sorted(titles)
    ]
    if not disordered:
        return []
    ended = {write.title: write.ended_at for write in committed}
    origin = min(write.sent_at for write in committed)
    first = disordered[0]
    return [
        f"{len(disordered)} book(s) received out of commit order, e.g. "
        + "; ".join(
            f"{item}: committed {written[item]}, received {seen[item]}"
            for item in disordered[:SHOWN]
        ),
        f"{first}, seconds since the first write: "
        + "; ".join(
            f"{title!r} answered {ended[title] - origin:.2f}, "
            f"received {arrival[title] - origin:.2f}"
            for title in written[first]
        ),
    ]


def _some(counts: dict[str, int]) -> str:
    return ", ".join(f"{key!r} x{count}" for key, count in list(counts.items())[:SHOWN])


def outbox_rows(database_url: str) -> dict[str, int]:
    """The gateway's outbox rows by status."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT status, count(*) FROM mercure_outbox GROUP BY status")
            ).all()
    finally:
        engine.dispose()
    return {str(status): int(count) for status, count in rows}


def wait_for_empty_outbox(database_url: str) -> None:
    """Block until every committed update has left the outbox (relayed and forgotten);
    fail at once for a row the hub rejected, and after a deadline otherwise."""
    rows: dict[str, int] = {}
    with gevent.Timeout(SETTLE, False):
        while True:
            rows = outbox_rows(database_url)
            assert not rows.get("rejected"), f"the hub rejected updates: {rows}"
            if not rows:
                return
            gevent.sleep(0.1)
    raise AssertionError(f"the outbox still holds {rows} after {SETTLE} s")


def log_lines(path: Path, pattern: str) -> list[str]:
    """Lines of the log at ``path`` that match ``pattern``."""
    matcher = re.compile(pattern)
    return [line for line in path.read_text(errors="replace").splitlines() if matcher.search(line)]


def report(
    load: WriteLoad,
    subscriber: Resubscriber,
    problems: Iterable[str],
    logs: Iterable[Path] = (),
) -> str:
    """A failure message: the problems, the load, the connections and the logs' warnings."""
    lines = [load.summary(), *problems, f"timeline: {load.timeline()}"]
    lines.append(f"{len(subscriber.events)} event(s) over {len(subscriber.connections)} attempts:")
    lines += [
        f"  sent {c.sent} -> {c.status} answered {c.answered} events {c.events} {c.error}"
        for c in subscriber.connections[-SHOWN:]
    ]
    for path in logs:
        interesting = log_lines(path, r'WARNING|ERROR|CRITICAL|Traceback|cannot|rejected|" 5\d\d ')
        lines.append(f"--- {path.name} ({len(interesting)} notable lines) ---")
        lines += interesting[-30:]
    return "\n".join(lines)
