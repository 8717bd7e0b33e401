"""Live updates follow the read rules: random writes through REST, every stream checked.

The property: a subscriber connected with the token that ``GET /auth/mercure`` gives its
user (a Mercure 0.x token with URI template selectors, or, through
``GET /auth/mercure?protocol=1.0``, a 1.0 access token with URL Pattern matchers: each
user holds one subscriber of each protocol on the same hub) receives exactly the
committed changes of the items that user may ``GET``: every book
change, and a review's changes when the user is its author or an administrator. The
anonymous subscriber receives the book changes and no review change at all.

The gateway is deployed as in production: gunicorn with one gevent worker (the in-process
hub; the rule does not depend on the transport between workers) on a migrated SQLite or
PostgreSQL database (where concurrent requests run their transactions side by side).
Users, some of them administrators, each hold one SSE stream on ``/reviews/{id}`` and
``/books/{id}``; then :data:`CONCURRENCY` clients play :data:`OPERATIONS` random
operations as random users (creating, replacing, patching and deleting reviews, books by
administrators, reads, and refused attempts of every kind), each write carrying a version
of its own in the review's ``body`` or the book's ``title``. Every answer is checked
against a model of the bookshop, which records each committed change and who may read
it. A last book change, which every subscriber receives after all the others (one
worker, one hub: each stream is in publication order), tells when the streams are
complete; the sets are compared then.

A book's reviews go with it (``on_delete: cascade``), and their deletes are published to
their readers like any other (see :mod:`app.publish.tracker`). The newest review and
the newest book are never deleted: SQLite would give their ids to the next rows, and a
subscriber tells changes apart by their item's IRI.

``ACCESS_LIVE_SEED`` replays a run (the seed is printed, and named in every failure;
with ``CONCURRENCY = 1`` the replay is exact) and ``ACCESS_LIVE_SCALE`` multiplies the
number of operations.
"""

from __future__ import annotations

import itertools
import json
import os
import random
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gevent
import httpx
import pytest

from tests.deploy.access import (
    ADMIN,
    ANONYMOUS,
    BOOK_PATTERN,
    BOOK_TOPIC,
    REVIEW_PATTERN,
    REVIEW_TOPIC,
    Actor,
    Api,
    access_env,
    describe,
)
from tests.deploy.gateway import Listener, migrate, postgres_database, sqlite_database
from tests.deploy.servers import gunicorn, running

USERS = 6
ADMINS = 2
OPERATIONS = int(3000 * float(os.environ.get("ACCESS_LIVE_SCALE", "1")))
CONCURRENCY = 4
MIN_BOOKS = 3
DRAIN = 60.0
"""Longest wait for the streams to deliver everything, once the operations are done."""
SHOWN = 8
"""Entries shown per kind of discrepancy in a failure message."""

DELETED = "deleted"
Key = tuple[str, str]
"""A change as a subscriber tells it: (item IRI, version), the version ``deleted`` for a
deletion."""

# Operations and their weights.
PLAN = {
    "create_review": 24,
    "patch_review": 20,
    "put_review": 10,
    "delete_review": 8,
    "read_review": 6,
    "review_on_deleted_book": 1,
    "create_book": 3,
    "patch_book": 4,
    "delete_book": 2,
}


def newest(items: dict[str, Any]) -> str | None:
    """The item of the highest id (kept: see the module docstring)."""
    return max(items, key=lambda iri: int(iri.rsplit("/", 1)[1]), default=None)


def key_of(data: str) -> Key:
    """The change an update's ``data`` reports."""
    document = json.loads(data)
    iri = document["@id"]
    if "body" in document:
        return iri, document["body"]
    if "title" in document:
        return iri, document["title"]
    assert document == {"@id": iri}, f"unexpected update data: {data}"
    return iri, DELETED


@dataclass(frozen=True)
class Change:
    """A committed change: who may read it (``reader``: a review's author, ``None`` for
    a book: everyone), what did it, and the REST answer (the update's data)."""

    key: Key
    reader: str | None
    label: str
    document: dict[str, Any] | None

    def readable_by(self, user: Actor) -> bool:
        if user.name is None:
            return self.reader is None
        return self.reader is None or user.admin or self.reader == user.name


class Bookshop:
    """The model of the gateway's data and the random operations played on it.

    Each operation holds the items it touches (``busy``), so that concurrent clients
    never race on one item and every answer is predictable."""

    def __init__(self, api: Api, users: list[Actor], seed: int) -> None:
        self.api = api
        self.users = users
        self.admins = [user for user in users if user.admin]
        self.by_name = {user.name: user for user in users}
        self.seed = seed
        self.books: dict[str, set[str]] = {}
        self.reviews: dict[str, tuple[str, str]] = {}  # review -> (author, book)
        self.deleted_books: list[str] = []
        self.cascaded: dict[str, str] = {}  # review -> the deleted book it went with
        self.busy: set[str] = set()
        self.changes: dict[Key, Change] = {}
        self.refused: dict[str, str] = {}  # version -> what was refused
        self.tally: Counter[str] = Counter()
        self.errors: list[str] = []
        self._versions = itertools.count(1)

    # -- running ---------------------------------------------------------------------

    def run(self, operations: int, concurrency: int) -> None:
        """Play ``operations`` operations with ``concurrency`` clients at once."""
        remaining = itertools.count(operations, -1)

        def client(number: int) -> None:
            rng = random.Random(f"{self.seed}-{number}")
            while next(remaining) > 0 and not self.errors:
                operation = rng.choices(list(PLAN), weights=list(PLAN.values()))[0]
                try:
                    getattr(self, operation)(rng)
                except Exception as error:  # reported with the seed, and stops the run
                    self.errors.append(f"{operation} by client {number}: {error!r}")

        gevent.joinall([gevent.spawn(client, n) for n in range(concurrency)], raise_error=True)

    @contextmanager
    def holding(self, *items: str) -> Iterator[None]:
        assert not self.busy.intersection(items), items
        self.busy.update(items)
        try:
            yield
        finally:
            self.busy.difference_update(items)

    def pick(
        self, rng: random.Random, items: dict[str, Any], keep: Iterable[str | None] = ()
    ) -> str | None:
        """A random item of ``items`` that no one holds, other than those to ``keep``."""
        kept = set(keep)
        free = [item for item in items if item not in self.busy and item not in kept]
        return rng.choice(free) if free else None

    def someone(self, rng: random.Random, author: str | None = None) -> Actor:
        """A random client: sometimes anonymous, often the ``author`` when given."""
        draw = rng.random()
        if draw < 0.05:
            return ANONYMOUS
        if author is not None and draw < 0.45:
            return self.by_name[author]
        return rng.choice(self.users)

    def version(self) -> str:
        return f"v{next(self._versions)}-{self.seed}"

    def send(
        self,
        actor: Actor,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        expected: int,
        version: str | None,
    ) -> tuple[httpx.Response, str]:
        label = f"{method} {path} by {actor.label}" + (f" [{version}]" if version else "")
        response = self.api.request(actor, method, path, body)
        outcome = "refused" if expected >= 400 else "done"
        self.tally[f"{method} {path.split('/')[1]} {outcome}"] += 1
        if response.status_code != expected:
            self.errors.append(f"{label}: expected {expected}, got {describe(response)}")
        elif expected >= 400 and version is not None:
            self.refused[version] = f"{label} -> {expected}"
        return response, label

    def commit(self, key: Key, reader: str | None, label: str, document: Any) -> None:
        assert key not in self.changes, key
        self.changes[key] = Change(key, reader, label, document)

    def check_author(self, response: httpx.Response, label: str, author: str | None) -> bool:
        """The owner in a successful answer is ``author``, whatever the body said."""
        if response.json()["author"] != author:
            self.errors.append(f"{label}: author should stay {author}: {describe(response)}")
            return False
        return True

    # -- the rules -------------------------------------------------------------------

    @staticmethod
    def review_rule(actor: Actor, author: str, success: int) -> int:
        """Reviews: their author and administrators."""
        if actor.name is None:
            return 401
        return success if actor.admin or actor.name == author else 403

    @staticmethod
    def book_rule(actor: Actor, success: int) -> int:
        """Books: administrators write."""
        if actor.name is None:
            return 401
        return success if actor.admin else 403

    # -- operations ------------------------------------------------------------------

    def claim(self, rng: random.Random, body: dict[str, Any]) -> dict[str, Any]:
        """Sometimes claim a random author in ``body``: it must never be taken."""
        if rng.random() < 0.3:
            body["author"] = rng.choice(self.users).name
        return body

    def create_review(self, rng: random.Random) -> None:
        book = self.pick(rng, self.books)
        if book is None:
            return
        actor, version = self.someone(rng), self.version()
        body = self.claim(rng, {"book": book, "rating": rng.randint(0, 5), "body": version})
        with self.holding(book):
            response, label = self.send(
                actor, "POST", "/reviews", body, 401 if actor.name is None else 201, version
            )
        if response.status_code == 201 and self.check_author(response, label, actor.name):
            assert actor.name is not None
            review = response.json()["@id"]
            self.reviews[review] = (actor.name, book)
            self.books[book].add(review)
            self.commit((review, version), actor.name, label, response.json())

    def review_on_deleted_book(self, rng: random.Random) -> None:
        if not self.deleted_books:
            return
        actor, version = self.someone(rng), self.version()
        body = {"book": rng.choice(self.deleted_books), "rating": 1, "body": version}
        self.send(actor, "POST", "/reviews", body, 401 if actor.name is None else 422, version)

    def patch_review(self, rng: random.Random) -> None:
        self._write_review(rng, "PATCH")

    def put_review(self, rng: random.Random) -> None:
        self._write_review(rng, "PUT")

    def _write_review(self, rng: random.Random, method: str) -> None:
        review = self.pick(rng, self.reviews)
        if review is None:
            return
        author, book = self.reviews[review]
        held = {review}
        target = book
        if method == "PUT":  # moves it to any book, held for the time of the request
            moved = self.pick(rng, self.books)
            if moved is None:
                return
            target = moved
            held.add(target)
        actor, version = self.someone(rng, author), self.version()
        body: dict[str, Any] = {"body": version, "rating": rng.randint(0, 5)}
        if method == "PUT":
            body.update(book=target, published=rng.random() < 0.8)
        expected = self.review_rule(actor, author, 200)
        with self.holding(*held):
            response, label = self.send(
                actor, method, review, self.claim(rng, body), expected, version
            )
        if response.status_code == 200 and self.check_author(response, label, author):
            self.books[book].discard(review)
            self.books[target].add(review)
            self.reviews[review] = (author, target)
            self.commit((review, version), author, label, response.json())

    def delete_review(self, rng: random.Random) -> None:
        review = self.pick(rng, self.reviews, keep=[newest(self.reviews)])
        if review is None:
            return
        author, book = self.reviews[review]
        actor = self.someone(rng, author)
        with self.holding(review):
            response, label = self.send(
                actor, "DELETE", review, None, self.review_rule(actor, author, 204), None
            )
        if response.status_code == 204:
            del self.reviews[review]
            self.books[book].discard(review)
            self.commit((review, DELETED), author, label, None)

    def read_review(self, rng: random.Random) -> None:
        review = self.pick(rng, self.reviews)
        if review is None:
            return
        author, _book = self.reviews[review]
        actor = self.someone(rng, author)
        with self.holding(review):
            response, label = self.send(
                actor, "GET", review, None, self.review_rule(actor, author, 200), None
            )
        if response.status_code == 200:
            self.check_author(response, label, author)

    def book_writer(self, rng: random.Random) -> Actor:
        """Mostly an administrator; sometimes a user or nobody, who are refused."""
        return rng.choice(self.admins) if rng.random() < 0.7 else self.someone(rng)

    def create_book(self, rng: random.Random, actor: Actor | None = None) -> None:
        actor, version = actor or self.book_writer(rng), self.version()
        body = {"title": version, "author": "Writer"}
        response, label = self.send(
            actor, "POST", "/books", body, self.book_rule(actor, 201), version
        )
        if response.status_code == 201:
            book = response.json()["@id"]
            self.books[book] = set()
            self.commit((book, version), None, label, response.json())

    def patch_book(self, rng: random.Random) -> None:
        book = self.pick(rng, self.books)
        if book is None:
            return
        actor, version = self.book_writer(rng), self.version()
        with self.holding(book):
            response, label = self.send(
                actor, "PATCH", book, {"title": version}, self.book_rule(actor, 200), version
            )
        if response.status_code == 200:
            self.commit((book, version), None, label, response.json())

    def delete_book(self, rng: random.Random) -> None:
        if len(self.books) <= MIN_BOOKS:
            return self.create_book(rng, rng.choice(self.admins))
        kept = [
            newest(self.books),
            *(b for b, r in self.books.items() if newest(self.reviews) in r),
        ]
        book = self.pick(rng, self.books, keep=kept)
        if book is None or self.busy.intersection(self.books[book]):
            return None
        reviews = set(self.books[book])
        actor = self.book_writer(rng)
        with self.holding(book, *reviews):
            response, label = self.send(
                actor, "DELETE", book, None, self.book_rule(actor, 204), None
            )
        if response.status_code == 204:
            for review in reviews:  # deleted with their book, and published as such
                author, _book = self.reviews.pop(review)
                self.cascaded[review] = book
                self.commit((review, DELETED), author, f"{label} (cascade)", None)
            del self.books[book]
            self.deleted_books.append(book)
            self.commit((book, DELETED), None, label, None)
        return None

    # -- what subscribers must have received -----------------------------------------

    def explain(self, key: Key) -> str:
        iri, version = key
        change = self.changes.get(key)
        if change is not None:
            reader = "everyone" if change.reader is None else f"{change.reader} and admins"
            return f"{iri} {version} ({change.label}; readable by {reader})"
        if version in self.refused:
            return f"{iri} {version} from a refused attempt: {self.refused[version]}"
        return f"{iri} {version} (no such change was made)"


def check_subscriber(
    shop: Bookshop, user: Actor, listener: Listener, first_ids: dict[Key, str]
) -> list[str]:
    """Everything wrong with what ``user``'s subscriber received."""
    problems: list[str] = []
    who = f"{user.label}'s subscriber"
    if listener.closed_by_server:
        problems.append(f"{who} was disconnected by the server")
    received = [(key_of(data), event_id, data) for event_id, data in listener.events]
    counts = Counter(key for key, _id, _data in received)
    expected = {key for key, change in shop.changes.items() if change.readable_by(user)}
    leaked = sorted(set(counts) - expected)
    missed = sorted(expected - set(counts))
    repeated = sorted(key for key, count in counts.items() if count > 1)
    for kind, keys in (("LEAKED", leaked), ("MISSED", missed), ("received twice", repeated)):
        if keys:
            shown = "".join(f"\n    {shop.explain(key)}" for key in keys[:SHOWN])
            more = f"\n    ... and {len(keys) - SHOWN} more" if len(keys) > SHOWN else ""
            problems.append(f"{who} {kind} {len(keys)} update(s):{shown}{more}")
    for key, event_id, data in received:
        change = shop.changes.get(key)
        if change is not None and change.document not in (None, json.loads(data)):
            problems.append(f"{who}: {shop.explain(key)} carried {data}")
        if first_ids.setdefault(key, event_id) != event_id:
            problems.append(f"{who}: {shop.explain(key)} has another update id: {event_id}")
    return problems


def received(listener: Listener, version: str) -> bool:
    return any(version in data for _id, data in listener.events[-5:])


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def gateway_database(
    request: pytest.FixtureRequest, tmp_path: Path, migrated_sqlite: Path
) -> Iterator[str]:
    """A migrated database of each kind, of the test's own."""
    if request.param == "sqlite":
        yield sqlite_database(tmp_path, migrated_sqlite)
        return
    with postgres_database() as url:
        migrate(access_env(url))
        yield url


def test_subscribers_receive_exactly_the_changes_their_users_may_read(
    tmp_path: Path, gateway_database: str
) -> None:
    seed = int(os.environ.get("ACCESS_LIVE_SEED") or random.randrange(2**32))
    print(f"ACCESS_LIVE_SEED={seed} ({OPERATIONS} operations, {CONCURRENCY} clients)")
    env = access_env(gateway_database)
    users = [Actor.user(f"user{n}") for n in range(USERS)]
    users += [Actor.user(f"admin{n}", ADMIN) for n in range(ADMINS)]
    with running(gunicorn(tmp_path, env, workers=1)) as server:
        api = Api(server.url)
        topics = [REVIEW_TOPIC, BOOK_TOPIC]
        patterns = [REVIEW_PATTERN, BOOK_PATTERN]
        listeners: dict[tuple[Actor, str], Listener] = {}
        try:
            for user in users:
                token = api.subscriber_token(user)["token"]
                listeners[user, "0.x"] = Listener(server.url, topics, token=token)
                access_token = api.subscriber_token(user, "1.0")["token"]
                listeners[user, "1.0"] = Listener(
                    server.url, [], patterns=patterns, token=access_token
                )
            listeners[ANONYMOUS, "0.x"] = Listener(server.url, topics)
            listeners[ANONYMOUS, "1.0"] = Listener(server.url, [], patterns=patterns)
            shop = Bookshop(api, users, seed)
            for _ in range(MIN_BOOKS + 2):
                shop.create_book(random.Random(seed), shop.admins[0])

            shop.run(OPERATIONS, CONCURRENCY)
            assert not shop.errors, f"seed {seed}: wrong answers:\n" + "\n".join(shop.errors)

            # The last change: once a stream has it, it has everything before it.
            shop.create_book(random.Random(seed), shop.admins[0])
            _book, last = list(shop.changes)[-1]
            with gevent.Timeout(DRAIN, False):
                for listener in listeners.values():
                    while not received(listener, last) and not listener.closed_by_server:
                        gevent.sleep(0.05)

            first_ids: dict[Key, str] = {}
            problems = [
                f"[{protocol}] {problem}"
                for (user, protocol), listener in listeners.items()
                for problem in check_subscriber(shop, user, listener, first_ids)
            ]
            print(f"operations: {dict(sorted(shop.tally.items()))}")
            counts = {
                f"{user.label} ({protocol})": len(listener.events)
                for (user, protocol), listener in listeners.items()
            }
            print(f"updates received: {counts}")
            assert not problems, f"seed {seed}:\n" + "\n".join(problems)

            # The run exercised what it claims to.
            reviews = [c for c in shop.changes.values() if c.reader is not None]
            assert len(reviews) > OPERATIONS // 4
            assert len(shop.refused) > OPERATIONS // 10
            assert any(key[1] == DELETED for key in shop.changes)
            assert shop.cascaded or OPERATIONS < 500
        finally:
            for listener in listeners.values():
                listener.close()
            api.close()
