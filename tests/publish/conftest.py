"""Fixtures of the publishing tests: a small library spec, real models on SQLite, and an
app whose updates go through a real outbox and land in a list (the tracker, factory and
outbox are the parts under test)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from app import models
from app.config.spec import (
    FieldSpec,
    MercureSpec,
    RelationSpec,
    ResourceSpec,
    ResourcesSpec,
)
from app.hub.update import Update
from app.models.outbox import outbox_tables
from app.publish import build_publisher, dependents_of
from app.publish.item import RegistryItemRenderer
from app.publish.outbox import Outbox
from app.publish.publisher import Publisher
from app.publish.settings import PublishSettings
from app.settings import Settings
from tests.deploy.gateway import postgres_database

AUTHOR = ResourceSpec(
    name="Author",
    route="/authors",
    table="author",
    fields=(FieldSpec("name", "string", required=True),),
)
SHELF = ResourceSpec(
    name="Shelf",
    route="/shelves",
    table="shelf",
    fields=(FieldSpec("label", "string", required=True),),
    mercure=MercureSpec(enabled=True, include_type=True),
)
BOOK = ResourceSpec(
    name="Book",
    route="/books",
    table="book",
    fields=(
        FieldSpec("title", "string", required=True),
        FieldSpec("isbn", "string", groups=("public",)),
        FieldSpec("secret", "string", write_only=True),
    ),
    mercure=MercureSpec(enabled=True),
)
REVIEW = ResourceSpec(
    name="Review",
    route="/reviews",
    table="review",
    fields=(FieldSpec("body", "text", required=True),),
    relations=(RelationSpec("book", "Book", required=True, nullable=False),),
    mercure=MercureSpec(
        enabled=True,
        private=True,
        topics=("@iri", "/books/{book.id}/reviews/{id}"),
        id="urn:review:{id}:{body}",
        type="review",
        retry=500,
    ),
)
LIBRARY = ResourcesSpec(resources=(AUTHOR, SHELF, BOOK, REVIEW))


class Recorder:
    """A hub stand-in that keeps what it is given, in order."""

    def __init__(self) -> None:
        self.updates: list[Update] = []

    def publish(self, update: Update) -> str:
        self.updates.append(update)
        return update.id


@dataclass
class Library:
    app: Flask
    registry: models.ModelRegistry
    publisher: Publisher
    published: list[Update]
    model: dict[str, Any] = field(default_factory=dict)

    @property
    def db(self) -> Any:
        return self.registry.db


def make_library(
    tmp_path: Path,
    spec: ResourcesSpec = LIBRARY,
    public_url: str | None = "http://shop.test",
    publish_settings: PublishSettings | None = None,
) -> Library:
    tmp_path.mkdir(parents=True, exist_ok=True)
    app = Flask("library", instance_path=str(tmp_path / "instance"))
    app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'library.sqlite'}"
    registry = models.init_app(app, spec)
    outbox = Outbox(registry.outbox_table, registry.lease_table)
    with app.app_context():
        outbox.bind(registry.db.engine)
    recorder = Recorder()
    tracked = {registry.model(r.name): r for r in spec.resources if r.mercure.enabled}
    publisher = build_publisher(
        app,
        spec,
        tracked,
        RegistryItemRenderer(registry),
        recorder,
        Settings(public_url=public_url),
        publish_settings or PublishSettings(hubs={}),
        outbox,
        dependents=dependents_of(spec, registry),
    )
    with app.app_context():
        registry.db.create_all()
    library = Library(app, registry, publisher, recorder.updates)
    library.model = {r.name: registry.model(r.name) for r in spec.resources}
    return library


@pytest.fixture
def library(tmp_path: Path) -> Iterator[Library]:
    lib = make_library(tmp_path)
    with lib.app.app_context():
        yield lib
        lib.db.session.remove()
    lib.publisher.close()


def with_mercure(resource: ResourceSpec, **options: Any) -> ResourceSpec:
    return replace(resource, mercure=replace(resource.mercure, **options))


TOPIC = "https://shop.test/books/1"


@pytest.fixture(params=["sqlite", "postgresql"])
def outbox(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Outbox]:
    with ExitStack() as stack:
        url = f"sqlite:///{tmp_path / 'outbox.sqlite'}"
        if request.param == "postgresql":
            url = stack.enter_context(postgres_database())
        metadata = sa.MetaData()
        box = Outbox(*outbox_tables(metadata))
        engine = sa.create_engine(url)
        stack.callback(engine.dispose)
        metadata.create_all(engine)
        box.bind(engine)
        yield box


def updates(*ids: str) -> list[Update]:
    """Updates of :data:`TOPIC` with the ids ``ids``, for the outbox tests."""
    return [Update((TOPIC, f"{TOPIC}/alt"), data=f"data {i}", id=i, type="t", retry=5) for i in ids]
