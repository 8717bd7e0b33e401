"""The largest update each hub takes, checked before a change commits.

The REST side (413 before the commit, on the built-in hub) is tested on the served
bookshop in ``tests/api/test_size_limits.py``; here: the measures, the relay's refusal of
a row written under a larger limit, and an external hub's form limit in a transaction.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.config.errors import ConfigError
from app.config.spec import ResourcesSpec
from app.hub.form import MAX_FORM_SIZE
from app.hub.update import Update
from app.publish.external import form
from app.publish.limits import (
    UpdateTooLarge,
    built_in_limit,
    check_options,
    external_limit,
    form_size,
)
from app.publish.relay import Rejected
from app.publish.settings import ExternalHub, PublishSettings
from app.publish.sink import HubDeliverer
from tests.publish.conftest import BOOK, SHELF, Recorder, make_library, with_mercure

_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\r\n\x00"))


@st.composite
def updates(draw: st.DrawFn) -> Update:
    return Update(
        topics=tuple(draw(st.lists(_TEXT, min_size=1, max_size=3))),
        data=draw(st.text(alphabet=st.characters(codec="utf-8"))),
        id=draw(_TEXT),
        type=draw(st.none() | _TEXT),
        retry=draw(st.none() | st.integers(min_value=0, max_value=2**64 - 1)),
        private=draw(st.booleans()),
    )


@given(updates())
def test_form_size_is_the_length_of_the_posted_form(update: Update) -> None:
    assert form_size(update) == len(urlencode(form(update), doseq=True))


def test_built_in_limit_names_the_setting() -> None:
    limit = built_in_limit(200)
    limit.check(Update(("https://shop.test/books/1",), data="x" * 100))
    with pytest.raises(
        UpdateTooLarge,
        match=r"more than the limit of 200 bytes set by "
        r"MERCURE_MAX_UPDATE_SIZE",
    ) as refused:
        limit.check(Update(("https://shop.test/books/1",), data="x" * 200))
    assert refused.value.status == 413
    assert "on https://shop.test/books/1" in refused.value.detail


def test_relay_rejects_a_row_larger_than_the_hub_takes() -> None:
    recorder = Recorder()
    deliverer = HubDeliverer(recorder, built_in_limit(200))
    small = Update(("t",), data="x" * 10)
    deliverer.deliver(small)
    with pytest.raises(Rejected, match="MERCURE_MAX_UPDATE_SIZE"):
        deliverer.deliver(Update(("t",), data="x" * 200))
    assert recorder.updates == [small]


def test_external_limit_is_the_reference_form_limit() -> None:
    limit = external_limit()
    # A space is one byte in the form ("+"); "é" is six ("%C3%A9").
    limit.check(Update(("t",), data=" " * (MAX_FORM_SIZE - 100)))
    with pytest.raises(UpdateTooLarge, match=r"publish form.*Go's Request\.ParseForm"):
        limit.check(Update(("t",), data="é" * (MAX_FORM_SIZE // 6 + 1)))


def test_a_change_too_large_for_an_external_hub_does_not_commit(tmp_path: Path) -> None:
    external = ExternalHub(
        name="default",
        publish_url="http://127.0.0.1:9/.well-known/mercure",
        subscribe_url="http://127.0.0.1:9/.well-known/mercure",
        jwt_token="unused",
    )
    library = make_library(tmp_path, publish_settings=PublishSettings(hubs={"default": external}))
    book = library.model["Book"]
    try:
        with library.app.app_context():
            session = library.db.session
            session.add(book(title="é" * (MAX_FORM_SIZE // 6 + 1)))
            with pytest.raises(UpdateTooLarge, match="publish form"):
                session.commit()
            session.rollback()
            session.add(book(title="fits"))
            session.commit()
            assert [b.title for b in session.query(book).all()] == ["fits"]
            pending = library.publisher.outbox.pending("default")
            assert [json.loads(row.update.data)["title"] for row in pending] == ["fits"]
    finally:
        library.publisher.close()


@pytest.mark.parametrize(
    "template",
    [
        "/.well-known/mercure/subscriptions/{id}/x",
        "/.well-known/%6Dercure/subscriptions/{id}",
        "/.well-known/./mercure/subscriptions/{id}",
        "/books/../.well-known/mercure/{id}",
        "https://host\\.well-known/mercure/x",
        "https://shop.example/.well-known/mercure",
    ],
)
def test_a_topic_template_in_the_hubs_namespace_stops_the_start(template: str) -> None:
    spec = ResourcesSpec(resources=(with_mercure(SHELF, topics=(template,)),))
    with pytest.raises(ConfigError) as refused:
        check_options(spec)
    assert str(refused.value) == (
        f"resources.Shelf.mercure.topics[0]: topic '{template}' is in the hub's reserved "
        "namespace /.well-known/mercure, where only the hub publishes (subscription events); "
        "choose a topic outside it, such as the item's IRI"
    )


def test_the_hubs_event_type_stops_the_start() -> None:
    spec = ResourcesSpec(resources=(SHELF, with_mercure(BOOK, type="mercure")))
    with pytest.raises(ConfigError, match=r"resources\.Book\.mercure\.type: the event type "):
        check_options(spec)


def test_ordinary_options_start() -> None:
    spec = ResourcesSpec(
        resources=(
            with_mercure(SHELF, topics=("/shelves/{id}", "https://x.example/{+label}/%20")),
            with_mercure(BOOK, type="book"),
        )
    )
    check_options(spec)
