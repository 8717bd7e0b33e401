"""Hostile topic selectors cannot stall the hub: a real hub on a real gevent server.

Subscribers hold selectors built to make a backtracking matcher explode (the 46-character
``{+v0}...{+v8}X`` one and variants of every operator up to the template limits), tokens
carry such selectors in their claims, and publishers keep sending long topics that all of
them must be matched against: live dispatch, authorization by the claims, the publish
claim, and history replay on a subscription opened meanwhile. While that goes on, other
requests to the same server (subscribing, publishing, reading events, refused selectors)
are answered: each publisher has published before they start and goes on until they are
all done, and every one of them completes. With a backtracking matcher the first hostile
publish never returns (each extra expression multiplies its time by about 7), so nothing
else would be answered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import gevent
import httpx
import pytest
from gevent.event import Event

from app.hub import Hub
from tests.hub.conftest import token
from tests.hub.sse_client import Subscription, publish

LiveHub = Callable[..., tuple[str, Hub]]
E = "https://example.com"
FIRST = {"": "", "+": "", "#": "#", ".": ".", "/": "/", ";": ";", "?": "?", "&": "&"}


def chain(operator: str, count: int, *, explode: bool = False) -> str:
    """``count`` one-variable expressions in a row, then a literal no hostile topic has."""
    star = "*" if explode else ""
    return "".join(f"{{{operator}v{i}{star}}}" for i in range(count)) + "X"


def listing(operator: str, count: int) -> str:
    return "{" + operator + ",".join(f"v{i}" for i in range(count)) + "}X"


THE_ISSUES = "{+v0}{+v1}{+v2}{+v3}{+v4}{+v5}{+v6}{+v7}{+v8}X"
# Each hostile selector with a topic it matches.
HOSTILE: list[tuple[str, str]] = [(THE_ISSUES, "aX")]
for _operator in FIRST:
    HOSTILE += [
        (chain(_operator, 16), FIRST[_operator] + "aX"),
        (chain(_operator, 32, explode=True), FIRST[_operator] + "aX"),
        (listing(_operator, 32), FIRST[_operator] + "aX"),
    ]
HOSTILE += [
    (f"{E}/" + "{+a}/" * 16 + "X", f"{E}/" + "/" * 16 + "X"),
    ("{+a}{b}{.c}{/d}{;e}{?f}{&g}{#h}" * 4 + "X", "aX"),
]
# As long as the default limit allows: 32 expressions, a literal, 1024 characters.
_LONGEST = chain("+", 32) + "y" * (1023 - len(chain("+", 32))) + "X"
HOSTILE.append((_LONGEST, _LONGEST[len(chain("+", 32)) - 1 :]))
SELECTORS = [selector for selector, _ in HOSTILE]
MARKERS = sorted({marker for _, marker in HOSTILE})

HOSTILE_TOPICS = [
    f"{E}/books/" + "1" * 3000,
    f"{E}/" + "a/" * 1500,
    "?a=b&" * 600,
    "#a,b" + "/c" * 1500,
    ".a=b;/%41" * 300,
]
REFUSED = [
    (["{" + ",".join(f"v{i}" for i in range(400)) + "}"], "MERCURE_TOPIC_TEMPLATE_MAX_LENGTH"),
    ([listing("+", 33)], "MERCURE_TOPIC_TEMPLATE_MAX_VARIABLES"),
    ([chain("#", 200)], "MERCURE_TOPIC_TEMPLATE_MAX_LENGTH"),
    (SELECTORS[:17], "MERCURE_TOPIC_TEMPLATES_PER_SUBSCRIPTION"),
]
CLAIMS = (chain("+", 16), chain("#", 16), listing("", 32))
PUBLISHER = token(publish=(*CLAIMS, "*"))
SUBSCRIBER = token(subscribe=(*CLAIMS, f"{E}/private/{{id}}"))
PRIVATE = f"{E}/private/{{id}}"
WITNESS = f"{E}/witness"


@pytest.fixture
def clients() -> Iterator[Callable[[], httpx.Client]]:
    """New HTTP clients, one per greenlet, closed at the end."""
    made: list[httpx.Client] = []

    def make() -> httpx.Client:
        made.append(httpx.Client(timeout=httpx.Timeout(10.0)))
        return made[-1]

    yield make
    for client in made:
        client.close()


# A backtracking matcher never returns to the interpreter: only a thread can end the run.
@pytest.mark.timeout(120, method="thread")
def test_hostile_selectors_do_not_stall_the_hub(
    live_hub: LiveHub, clients: Callable[[], httpx.Client]
) -> None:
    url, hub = live_hub(history_size=1000)
    client = clients()
    auth = {"Authorization": f"Bearer {SUBSCRIBER}"}
    # Every hostile selector alone, four by four, and all together as far as allowed.
    groups = [[selector] for selector in SELECTORS]
    groups += [SELECTORS[i : i + 4] for i in range(0, len(SELECTORS), 4)]
    groups.append(SELECTORS[:16])
    subscriptions = [Subscription(client, url, group) for group in groups]
    # A subscriber to every topic whose token may see private updates only through
    # hostile claims, and one whose token also grants the private topics.
    every = Subscription(client, url, ["*"], headers=auth)
    private = Subscription(client, url, [PRIVATE], headers=auth)
    witness = Subscription(client, url, [WITNESS])
    opened = [*subscriptions, every, private, witness]
    try:
        assert {s.response.status_code for s in opened} == {200}

        started = [Event() for _ in range(3)]
        others_running = Event()
        stop = Event()
        published_meanwhile = [0, 0, 0]

        def hammer(index: int) -> int:
            http = clients()
            sent = 0
            try:
                while not stop.is_set():
                    if others_running.is_set():
                        published_meanwhile[index] += 1
                    topic = HOSTILE_TOPICS[(index + sent) % len(HOSTILE_TOPICS)]
                    response = publish(http, url, PUBLISHER, topic=topic, private="on")
                    assert response.status_code == 200, response.text
                    sent += 1
                    started[index].set()
            finally:
                started[index].set()
            return sent

        def other_requests() -> None:
            http = clients()
            for event in started:
                event.wait()
            others_running.set()
            # A witness subscriber gets its updates, one at a time.
            for number in range(5):
                response = publish(http, url, PUBLISHER, topic=WITNESS, id=f"w{number}")
                assert response.status_code == 200
                assert witness.next_event().id == f"w{number}"
            # Selectors past the limits are refused, naming the setting.
            for selectors, setting in REFUSED:
                response = http.get(url, params=[("topic", s) for s in selectors])
                assert response.status_code == 400
                assert setting in response.text
            # A new hostile subscription replays the history, every hostile update in it.
            with Subscription(
                http, url, SELECTORS[:16], params={"lastEventID": "earliest"}
            ) as replay:
                assert replay.response.status_code == 200
                assert replay.response.headers["last-event-id"] == "earliest"
            # A private update reaches the subscriber whose claim grants it.
            response = publish(http, url, PUBLISHER, topic=f"{E}/private/1", id="p", private="on")
            assert response.status_code == 200
            assert private.next_event().id == "p"

        hammers = [gevent.spawn(hammer, index) for index in range(3)]
        others = gevent.spawn(other_requests)
        others.join()
        stop.set()
        gevent.joinall(hammers)
        others.get()
        sent = [h.get() for h in hammers]
        # The hostile publishing went on while the other requests were being answered.
        assert all(count >= 1 for count in published_meanwhile), (published_meanwhile, sent)

        # Nothing hostile was delivered; every hostile selector still matches its marker.
        response = publish(client, url, PUBLISHER, topic=MARKERS, id="marker")
        assert response.status_code == 200
        for subscription in subscriptions:
            assert subscription.next_event().id == "marker"
        # "#aX" is granted by a hostile claim only.
        publish(client, url, PUBLISHER, topic="#aX", id="private-marker", private="on")
        expected = ["w0", "w1", "w2", "w3", "w4", "p", "marker", "private-marker"]
        assert [event.id for event in every.events(len(expected))] == expected
        assert len(hub.transport.subscribers()[1]) == len(opened)
    finally:
        for subscription in opened:
            subscription.close()
