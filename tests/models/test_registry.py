"""Each app gets its own models; relations, defaults and foreign keys behave."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.exc import IntegrityError

from app import models
from app.config.spec import FieldSpec, RelationSpec, ResourceSpec, ResourcesSpec
from app.models import ModelRegistry

AUTHOR = ResourceSpec("Author", "/authors", "author", (FieldSpec("name", "string"),))
POST = ResourceSpec(
    "Post",
    "/posts",
    "post",
    (
        FieldSpec("title", "string", nullable=False),
        FieldSpec("publishedAt", "datetime"),
        FieldSpec("draft", "boolean", default=True),
    ),
    relations=(RelationSpec("author", "Author", nullable=False), RelationSpec("editor", "Author")),
)
SPEC = ResourcesSpec((AUTHOR, POST))


@pytest.fixture
def app_registry() -> Iterator[tuple[Flask, ModelRegistry]]:
    app = Flask("registry-test")
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
    registry = models.init_app(app, SPEC)
    with app.app_context():
        registry.db.create_all()
        yield app, registry
    with app.app_context():
        registry.db.engine.dispose()


def test_models_and_resources_map_both_ways(app_registry: tuple[Flask, ModelRegistry]) -> None:
    _app, registry = app_registry
    post = registry.model("Post")
    assert post.__name__ == "Post"
    assert post.__tablename__ == "post"
    assert registry.resource_for(post) is POST
    assert registry.resource_for(post(title="x")) is POST
    assert registry.spec is SPEC
    with pytest.raises(KeyError):
        registry.model("Nope")
    with pytest.raises(KeyError, match="not a model"):
        registry.resource_for(object())


def test_columns_relations_and_defaults(app_registry: tuple[Flask, ModelRegistry]) -> None:
    _app, registry = app_registry
    db = registry.db
    author = registry.model("Author")(name="Ann")
    post = registry.model("Post")(title="Hi", author=author)
    db.session.add(post)
    db.session.commit()
    assert (post.id, post.author_id, post.editor_id, post.draft) == (1, author.id, None, True)
    table = registry.model("Post").__table__
    assert {c.name for c in table.columns} == {
        "id",
        "title",
        "published_at",
        "draft",
        "author_id",
        "editor_id",
    }
    assert {fk.name for fk in table.foreign_key_constraints} == {
        "fk_post_author_id_author",
        "fk_post_editor_id_author",
    }


def test_sqlite_enforces_foreign_keys(app_registry: tuple[Flask, ModelRegistry]) -> None:
    _app, registry = app_registry
    registry.db.session.add(registry.model("Post")(title="Orphan", author_id=99))
    with pytest.raises(IntegrityError, match="FOREIGN KEY"):
        registry.db.session.commit()
    registry.db.session.rollback()


def test_apps_with_different_specs_coexist() -> None:
    other_post = ResourceSpec("Post", "/posts", "post", (FieldSpec("body", "text"),))
    first, second = Flask("first"), Flask("second")
    for app in (first, second):
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
    one = models.init_app(first, SPEC)
    two = models.init_app(second, ResourcesSpec((other_post,)))
    assert one.model("Post") is not two.model("Post")
    assert one.metadata is not two.metadata
    with second.app_context():
        two.db.create_all()
        two.db.session.add(two.model("Post")(body="b"))
        two.db.session.commit()
        assert two.db.session.scalar(sa.select(sa.func.count()).select_from(two.model("Post"))) == 1
    with second.app_context():
        two.db.engine.dispose()
    assert "model_registry" in first.extensions
    assert "migrate" in first.extensions
