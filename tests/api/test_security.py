"""Rules judged over HTTP for specs beyond the bookshop: a writable field compared with the
user cannot be used to take an item over, and a read rule holds without a ``get`` route."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from app.auth.command import mint_user_token
from app.config.loader import load_text
from tests.api.conftest import AppFactory
from tests.api.databases import USER_KEY
from tests.services import LiveServer

TASKS = """
resources:
  Task:
    fields:
      title: {type: string, required: true}
      assignee: {type: string, required: true}
    security:
      rule: "is_granted('admin') or object.assignee == user.id"
      operations:
        get_collection: is_authenticated()
        post: is_authenticated()
  Memo:
    owner: author
    fields:
      body: {type: text, required: true}
      author: {type: string, required: true}
    operations: [get_collection, post]
    security:
      rule: "object.author == user.id"
      operations:
        get_collection: is_authenticated()
        post: is_authenticated()
"""


def bearer(user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_user_token(USER_KEY, 'HS256', user)}"}


@pytest.fixture
def client(make_app: AppFactory, serve: Callable[..., LiveServer]) -> Iterator[httpx.Client]:
    app, _registry = make_app(load_text(TASKS, "tasks.yaml", {}))
    with httpx.Client(base_url=serve(app).url, timeout=10) as http:
        yield http


@pytest.mark.parametrize(
    ("method", "body"),
    [("PUT", {"title": "mine now", "assignee": "mallory"}), ("PATCH", {"assignee": "mallory"})],
)
def test_a_change_cannot_take_an_item_over(
    client: httpx.Client, method: str, body: dict[str, str]
) -> None:
    created = client.post(
        "/tasks", json={"title": "alice's", "assignee": "alice"}, headers=bearer("alice")
    )
    assert created.status_code == 201
    content_type = "application/merge-patch+json" if method == "PATCH" else "application/json"
    taken = client.request(
        method,
        "/tasks/1",
        json=body,
        headers={**bearer("mallory"), "Content-Type": content_type},
    )
    assert taken.status_code == 403, taken.text
    assert "alice's" not in taken.text
    assert client.get("/tasks/1", headers=bearer("alice")).json()["assignee"] == "alice"
    assert client.get("/tasks/1", headers=bearer("mallory")).status_code == 403


def test_the_read_rule_limits_collections_without_a_get_route(client: httpx.Client) -> None:
    for user in ("alice", "bob"):
        made = client.post("/memos", json={"body": f"{user}'s memo"}, headers=bearer(user))
        assert made.status_code == 201
    listed = client.get("/memos", headers=bearer("bob")).json()
    assert listed["totalItems"] == 1
    assert [memo["body"] for memo in listed["member"]] == ["bob's memo"]
