"""The ``security`` and ``owner`` keys of ``resources.yaml``: every mistake reported as
``<file>:<line>: <what> at <dotted key>; <fix>``, good files loaded into rules, and the
production posture refusing rules nobody can satisfy and writes nobody restricted."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from app import create_app
from app.config import ResourcesSpec
from app.hub.settings import HubSettingsError
from app.settings import SettingsError

ROOT = Path(__file__).resolve().parents[2]

REVIEW = """
resources:
  Review:
    fields:
      author: string
      rating: integer
      secret: {{type: string, write_only: true}}
      published: boolean
{options}
"""


def review(options: str) -> str:
    """A resource with string, integer, write-only and boolean fields, plus ``options``
    (indented as keys of the resource)."""
    indented = "\n".join(f"    {line}" if line else line for line in options.splitlines())
    return REVIEW.format(options=indented)


LINE = re.compile(r"^\d+: .+ at [\w.\[\]]+(; .+)?$")


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        pytest.param(
            "security: 'objet.author == user.id'",
            [
                "8: unknown name 'objet' in 'objet.author'; use user.id, user.roles, "
                "object.<field>, is_granted('<role>') or is_authenticated() (rule of "
                "get_collection) at resources.Review.security.rule; see docs/security.md "
                "for the expression language"
            ],
            id="unknown-name-reported-once",
        ),
        pytest.param(
            "security: 'object.author == user.id'",
            [
                "8: this operation has no item: 'object' exists only for item operations and "
                "post (rule of get_collection) at resources.Review.security.rule; give this "
                "operation a rule of its own under security.operations"
            ],
            id="object-in-get-collection",
        ),
        pytest.param(
            "operations: [get_collection, get]\n"
            "security: {operations: {get_collection: 'object.rating == 1'}}",
            [
                "9: this operation has no item: 'object' exists only for item operations and "
                "post (rule of get_collection) at "
                "resources.Review.security.operations.get_collection.rule; give this operation "
                "a rule of its own under security.operations"
            ],
            id="object-in-own-get-collection-rule",
        ),
        pytest.param(
            "security:\n"
            "  rule: previous_object.author == user.id\n"
            "  operations: {get_collection: public}",
            [
                "9: 'previous_object' exists only for put and patch (rule of post) at "
                "resources.Review.security.rule; give this operation a rule of its own under "
                "security.operations"
            ],
            id="previous-object-outside-put-patch",
        ),
        pytest.param(
            "security:\n  operations:\n    get: {rule: 'user.__class__', message: no}",
            [
                "10: 'user.__class__' does not exist; use user.id or user.roles (rule of get) at "
                "resources.Review.security.operations.get.rule; see docs/security.md "
                "for the expression language"
            ],
            id="attribute-escape",
        ),
        pytest.param(
            "security: {operations: {patch: 'object.rating < 3'}}",
            [
                "8: comparisons are ==, !=, in and not in between two operands; join several "
                "with 'and' or 'or' (rule of patch) at "
                "resources.Review.security.operations.patch.rule; see docs/security.md "
                "for the expression language"
            ],
            id="unsupported-comparison",
        ),
        pytest.param(
            "security: {operations: {get: 'object.title == user.id'}}",
            [
                "8: 'object.title' is not a field; use one of: author, id, published, rating, "
                "secret (rule of get) at resources.Review.security.operations.get.rule; see "
                "docs/security.md for the expression language"
            ],
            id="unknown-field",
        ),
        pytest.param(
            "operations: [get_collection, get]\n"
            "security: {operations: {post: public, delete: 'is_granted(\"admin\")'}}",
            [
                "9: a rule for 'delete', which is not an enabled operation at "
                "resources.Review.security.operations.delete; remove the rule or enable the "
                "operation",
                "9: a rule for 'post', which is not an enabled operation at "
                "resources.Review.security.operations.post; remove the rule or enable the "
                "operation",
            ],
            id="rule-for-disabled-operation",
        ),
        pytest.param(
            "owner: writer",
            [
                "8: the owner 'writer' is not a field at resources.Review.owner; name a string "
                "field, for example 'owner: author' with 'author: string'"
            ],
            id="owner-unknown",
        ),
        pytest.param(
            "owner: rating",
            [
                "8: the owner 'rating' must be a readable string or text field at "
                "resources.Review.owner; declare 'rating' with 'type: string'"
            ],
            id="owner-integer",
        ),
        pytest.param(
            "owner: secret",
            [
                "8: the owner 'secret' must be a readable string or text field at "
                "resources.Review.owner; declare 'secret' with 'type: string'"
            ],
            id="owner-write-only",
        ),
        pytest.param(
            "mercure: {private: false}\nsecurity: {operations: {get: 'object.author == user.id'}}",
            [
                "8: updates are public but the get rule restricts who may read an item at "
                "resources.Review.mercure.private; remove 'private: false': updates of a "
                "resource with a read rule are private"
            ],
            id="public-updates-with-a-read-rule",
        ),
        pytest.param(
            "mercure: true\nsecurity: {operations: {get: 'object.author != user.id'}}",
            [
                "9: the read rule of a resource whose updates are published must be an 'or' of "
                "terms that depend on the user alone or add one 'object.<field> == <value>' "
                "with 'and'; rewrite 'object.author != user.id' in that form at "
                "resources.Review.security.operations.get.rule; see docs/security.md"
            ],
            id="read-rule-shape-for-published-updates",
        ),
        pytest.param(
            "mercure: {topics: ['@iri']}\n"
            "security:\n"
            "  rule: \"is_granted('a') and (object.author == user.id or object.published)\"\n"
            "  operations: {get_collection: public}",
            [
                "10: the read rule of a resource whose updates are published must be an 'or' of "
                "terms that depend on the user alone or add one 'object.<field> == <value>' "
                "with 'and'; rewrite \"is_granted('a') and (object.author == user.id or "
                'object.published)" in that form at resources.Review.security.rule; see '
                "docs/security.md"
            ],
            id="read-rule-shape-from-the-default-rule",
        ),
    ],
)
def test_refused(problems: Callable[..., list[str]], options: str, expected: list[str]) -> None:
    found = problems(review(options))
    assert found == expected
    assert all(LINE.match(line) for line in found)


@pytest.mark.parametrize(
    ("options", "where"),
    [
        ("security: 42", "resources.Review.security"),
        ("security: {rule: [a]}", "resources.Review.security.rule"),
        ("security: {operations: {list: public}}", "resources.Review.security.operations"),
        (
            "security: {operations: {get: {message: hi}}}",
            "resources.Review.security.operations.get",
        ),
        ("security: {rules: public}", "resources.Review.security"),
        ("owner: [author]", "resources.Review.owner"),
    ],
)
def test_malformed_keys_are_named(
    problems: Callable[..., list[str]], options: str, where: str
) -> None:
    [line] = problems(review(options))
    assert f" at {where}" in line
    assert LINE.match(line)


def test_every_problem_of_a_file_at_once(problems: Callable[..., list[str]]) -> None:
    found = problems(
        review(
            "owner: rating\n"
            "mercure: {private: false}\n"
            "security:\n"
            "  rule: is_granted('admin')\n"
            "  operations:\n"
            "    get: object.author == user.id\n"
            "    put: object.nope == 1"
        )
    )
    assert [line.split(" at ")[1].split(";")[0] for line in found] == [
        "resources.Review.owner",
        "resources.Review.mercure.private",
        "resources.Review.security.operations.put.rule",
    ]


# good files


def rules(
    spec: ResourcesSpec, name: str = "Review"
) -> dict[str, tuple[str | None, bool, str | None]]:
    """``operation -> (expression source, public, message)`` of a resource."""
    security = spec.resource(name).security
    return {
        operation: (
            None if rule.expression is None else rule.expression.source,
            rule.public,
            rule.message,
        )
        for operation, rule in security.rules
    }


def test_a_single_expression_rules_every_operation(load: Callable[..., ResourcesSpec]) -> None:
    spec = load(review("security: \"is_granted('admin')\""))
    assert rules(spec) == dict.fromkeys(
        ("get_collection", "post", "get", "put", "patch", "delete"),
        ("is_granted('admin')", False, None),
    )
    assert spec.resource("Review").security.read is not None


def test_default_rule_message_and_per_operation_rules(load: Callable[..., ResourcesSpec]) -> None:
    spec = load(
        review(
            "operations: [get_collection, post, get, patch]\n"
            "security:\n"
            "  rule: is_granted('admin') or object.author == user.id\n"
            "  message: Not yours.\n"
            "  operations:\n"
            "    get_collection: public\n"
            "    post: {rule: is_authenticated(), message: Sign in.}\n"
            "    patch: previous_object.author == user.id"
        )
    )
    assert rules(spec) == {
        "get_collection": (None, True, "Not yours."),
        "post": ("is_authenticated()", False, "Sign in."),
        "get": ("is_granted('admin') or object.author == user.id", False, "Not yours."),
        "patch": ("previous_object.author == user.id", False, "Not yours."),
    }


def test_public_default_leaves_no_expression(load: Callable[..., ResourcesSpec]) -> None:
    spec = load(review("security: {rule: public, operations: {delete: \"is_granted('admin')\"}}"))
    assert rules(spec)["get"] == (None, True, None)
    assert rules(spec)["delete"] == ("is_granted('admin')", False, None)
    assert spec.resource("Review").security.read is None


def test_no_security_means_no_rules(load: Callable[..., ResourcesSpec]) -> None:
    spec = load(review(""))
    assert rules(spec) == {}
    assert spec.resource("Review").security.rule("post").public is False


def test_the_owner_is_read_only_and_not_required(load: Callable[..., ResourcesSpec]) -> None:
    spec = load(review("owner: author"))
    resource = spec.resource("Review")
    author = resource.field("author")
    assert resource.owner == "author"
    assert author is not None
    assert (author.read_only, author.required) == (True, False)


def test_a_read_rule_makes_published_updates_private(load: Callable[..., ResourcesSpec]) -> None:
    spec = load(
        review(
            "mercure: true\n"
            "security: {operations: {get: \"is_granted('a') or object.author == user.id "
            'or (is_authenticated() and object.published)"}}'
        )
    )
    assert spec.resource("Review").mercure.private is True
    assert spec.resource("Review").mercure.enabled is True


def test_any_read_rule_without_published_updates(load: Callable[..., ResourcesSpec]) -> None:
    spec = load(review("security: {operations: {get: 'object.author != user.id'}}"))
    assert spec.resource("Review").mercure.enabled is False


def test_the_shipped_bookshop_loads(load: Callable[..., ResourcesSpec]) -> None:
    spec = load((ROOT / "resources.yaml").read_text(encoding="utf-8"))
    assert rules(spec, "Book")["get"] == (
        None,
        True,
        "Only administrators may change the catalogue.",
    )
    assert rules(spec, "Book")["post"][0] == "is_granted('admin')"
    assert rules(spec, "Review")["get_collection"] == (
        "is_authenticated()",
        False,
        "Sign in to read reviews.",
    )
    assert spec.resource("Review").owner == "author"
    assert spec.resource("Review").mercure.private is True


# production posture


def production(tmp_path: Path, resources: str | Path, **environ: str) -> dict[str, str]:
    path = resources if isinstance(resources, Path) else tmp_path / "resources.yaml"
    if not isinstance(resources, Path):
        path.write_text(resources, encoding="utf-8")
    return {
        "GATEWAY_ENV": "production",
        "RESOURCES_FILE": str(path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'production.db'}",
        "MERCURE_JWT_KEY": "production-posture-hub-key-of-32-bytes!",
        "PUBLIC_URL": "https://shop.example",
        **environ,
    }


def refusal(environ: dict[str, str]) -> list[str]:
    with pytest.raises(SettingsError) as caught:
        create_app(environ=environ)
    head, *lines = str(caught.value).splitlines()
    assert head == "production refuses to start:"
    return lines


def test_production_refuses_rules_without_authentication(tmp_path: Path) -> None:
    lines = refusal(production(tmp_path, ROOT / "resources.yaml"))
    named = [line.split(" has a rule")[0] for line in lines]
    assert named == [
        *(f"resources.Book.security.operations.{op}" for op in ("post", "put", "patch", "delete")),
        *(
            f"resources.Review.security.operations.{op}"
            for op in ("get_collection", "post", "get", "put", "patch", "delete")
        ),
    ]
    assert all(
        line.endswith(
            "but no authentication is configured; set AUTH_JWT_KEY (with "
            "AUTH_JWT_ALG) or AUTH_JWKS_URL"
        )
        for line in lines
    )


def test_production_refuses_unrestricted_writes(tmp_path: Path) -> None:
    text = (
        "resources:\n"
        "  Book:\n"
        "    fields: {title: string}\n"
        "  Note:\n"
        "    fields: {text: string}\n"
        "    operations: [get, post, delete]\n"
        "    security: {operations: {delete: \"is_granted('admin')\"}}\n"
        "  Tag:\n"
        "    fields: {name: string}\n"
        "    security: {rule: public}\n"
    )
    lines = refusal(production(tmp_path, text, AUTH_JWT_KEY="production-user-key-of-32-bytes!!"))
    assert lines == [
        f"resources.Book.security.operations.{op}: '{op}' has no security rule; give it one, "
        f"for example \"is_granted('admin')\", or declare it open with 'public'"
        for op in ("post", "put", "patch", "delete")
    ] + [
        "resources.Note.security.operations.post: 'post' has no security rule; give it one, "
        "for example \"is_granted('admin')\", or declare it open with 'public'"
    ]


def test_production_starts_with_rules_and_a_key(tmp_path: Path) -> None:
    app = create_app(
        environ=production(
            tmp_path, ROOT / "resources.yaml", AUTH_JWT_KEY="production-user-key-of-32-bytes!!"
        )
    )
    assert "mercure_ui.index" not in app.view_functions  # production: no debug UI


def test_production_starts_with_a_key_set(tmp_path: Path) -> None:
    app = create_app(
        environ=production(
            tmp_path,
            ROOT / "resources.yaml",
            AUTH_JWKS_URL="https://idp.example/jwks.json",
            AUTH_AUDIENCE="bookshop",
        )
    )
    assert "mercure_ui.index" not in app.view_functions  # production: no debug UI


def test_production_refuses_a_users_key_equal_to_the_hubs(tmp_path: Path) -> None:
    key = "production-posture-hub-key-of-32-bytes!"
    environ = production(tmp_path, ROOT / "resources.yaml", AUTH_JWT_KEY=key)
    assert any("AUTH_JWT_KEY equals a hub key" in line for line in refusal(environ))


def test_production_refuses_the_hubs_development_key(tmp_path: Path) -> None:
    environ = production(
        tmp_path,
        ROOT / "resources.yaml",
        AUTH_JWT_KEY="production-posture-users-key-of-32-bytes",
        MERCURE_JWT_KEY="!ChangeThisMercureHubJWTSecretKey!",
    )
    with pytest.raises(HubSettingsError, match="publicly known development key"):
        create_app(environ=environ)


def test_production_needs_a_public_url(tmp_path: Path) -> None:
    environ = production(
        tmp_path,
        ROOT / "resources.yaml",
        AUTH_JWT_KEY="production-posture-users-key-of-32-bytes",
        PUBLIC_URL="",
    )
    assert any(line.startswith("PUBLIC_URL is not set") for line in refusal(environ))
