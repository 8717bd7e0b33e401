"""Request bodies are validated per field type and option (table-driven)."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask

from app import models
from app.config.spec import FieldSpec, ResourceSpec, ResourcesSpec
from app.errors import ValidationFailed
from app.models import ModelRegistry
from app.schemas import load_payload
from tests.api import specs

GADGET = specs.GADGET

VALID: list[tuple[str, Any, Any]] = [
    ("notes", "long text " * 100, "long text " * 100),
    ("quantity", 0, 0),
    ("quantity", 1000, 1000),
    ("weight", 2, 2.0),
    ("weight", -0.5, -0.5),
    ("price", "12.3", decimal.Decimal("12.30")),
    ("price", 12.345, decimal.Decimal("12.35")),
    ("price", "1.005", decimal.Decimal("1.01")),
    ("price", "-1.005", decimal.Decimal("-1.01")),
    ("price", 7, decimal.Decimal("7.00")),
    ("active", False, False),
    ("releaseDate", "2024-02-29", dt.date(2024, 2, 29)),
    (
        "launchedAt",
        "2024-03-01T10:30:00+02:00",
        dt.datetime(2024, 3, 1, 8, 30, tzinfo=dt.UTC),
    ),
    ("launchedAt", "2024-03-01T10:30:00Z", dt.datetime(2024, 3, 1, 10, 30, tzinfo=dt.UTC)),
    (
        "serial",
        "123e4567-e89b-12d3-a456-426614174000",
        uuid.UUID(int=0x123E4567E89B12D3A456426614174000),
    ),
    ("specs", [1, "two", None], [1, "two", None]),
    ("specs", {"deep": {"x": 1}}, {"deep": {"x": 1}}),
    ("color", "blue", "blue"),
    ("secret", "hidden", "hidden"),
    ("notes", None, None),
    ("maker", "/makers/3", 3),
    ("maker", "https://api.example.com/makers/4", 4),
    ("maker", None, None),
]


@pytest.mark.parametrize(("name", "sent", "loaded"), VALID)
def test_valid_values_load(registry: ModelRegistry, name: str, sent: Any, loaded: Any) -> None:
    values = load_payload(registry, GADGET, {"name": "n", name: sent}, "create")
    key = "maker_id" if name == "maker" else name
    assert values[key] == loaded


INVALID: list[tuple[str, Any, str]] = [
    ("name", "x" * 21, "This value is too long. It should have 20 characters or less."),
    ("name", None, "This value should not be null."),
    ("name", 12, "Not a valid string."),
    ("quantity", -1, "This value should be between 0 and 1000."),
    ("quantity", 1001, "This value should be between 0 and 1000."),
    ("quantity", "5", "Not a valid integer."),
    ("quantity", 1.5, "Not a valid integer."),
    ("quantity", True, "Not a valid integer."),
    ("weight", "heavy", "Not a valid number."),
    ("weight", True, "Not a valid number."),
    ("price", "abc", "Not a valid number."),
    ("price", "1000000", "This value should have at most 6 digits before the decimal point."),
    ("active", "yes", "Not a valid boolean."),
    ("active", 1, "Not a valid boolean."),
    ("active", None, "This value should not be null."),
    ("releaseDate", "2024-02-30", "Not a valid date."),
    ("launchedAt", "yesterday", "Not a valid datetime."),
    ("serial", "not-a-uuid", "Not a valid UUID."),
    ("color", "purple", "The value you selected is not a valid choice."),
    (
        "maker",
        "/gadgets/1",
        'Invalid IRI "/gadgets/1": expected an IRI of a Maker such as "/makers/1".',
    ),
    ("maker", 1, 'Invalid IRI "1": expected an IRI of a Maker such as "/makers/1".'),
    (
        "maker",
        "/makers/x",
        'Invalid IRI "/makers/x": expected an IRI of a Maker such as "/makers/1".',
    ),
    ("notes", ["a"], "Not a valid string."),
]


@pytest.mark.parametrize(("name", "sent", "message"), INVALID)
def test_invalid_values_are_violations_on_their_property(
    registry: ModelRegistry, name: str, sent: Any, message: str
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        load_payload(registry, GADGET, {"name": "n", name: sent}, "create")
    assert [(v.property_path, v.message) for v in raised.value.violations] == [(name, message)]


def test_unknown_properties_are_ignored_by_default(registry: ModelRegistry) -> None:
    body = {"name": "n", "originId": 7, "unknown": {"deep": [1]}, "@id": "/gadgets/7"}
    assert GADGET.allow_extra_attributes is None
    assert load_payload(registry, GADGET, body, "patch") == {"name": "n"}
    values = load_payload(registry, GADGET, body, "create")
    assert "originId" not in values
    assert "unknown" not in values


def test_a_strict_resource_refuses_unknown_properties(registry: ModelRegistry) -> None:
    strict = replace(GADGET, allow_extra_attributes=False)
    with pytest.raises(ValidationFailed) as raised:
        load_payload(registry, strict, {"name": "n", "unknown": 1, "code": "C"}, "create")
    assert [(v.property_path, v.message) for v in raised.value.violations] == [
        (
            "unknown",
            "Unknown property 'unknown'; writable properties: active, color, internal, "
            "launchedAt, maker, name, notes, price, quantity, releaseDate, secret, serial, "
            "specs, weight.",
        )
    ]


def test_read_only_properties_are_ignored_even_when_strict(registry: ModelRegistry) -> None:
    strict = replace(GADGET, allow_extra_attributes=False)
    body = {"name": "n", "code": "C", "id": 3, "@type": "Gadget"}
    assert load_payload(registry, strict, body, "patch") == {"name": "n"}


def test_default_string_length_is_enforced(registry: ModelRegistry) -> None:
    with pytest.raises(ValidationFailed) as raised:
        load_payload(registry, GADGET, {"name": "n", "internal": "x" * 256}, "create")
    assert raised.value.violations[0].property_path == "internal"


@pytest.mark.parametrize(
    ("sent", "ok"), [(2**31 - 1, True), (-(2**31), True), (2**31, False), (-(2**31) - 1, False)]
)
def test_integer_columns_reject_values_beyond_32_bits(sent: int, ok: bool) -> None:
    counter = ResourceSpec("Counter", "/counters", "counter", (FieldSpec("n", "integer"),))
    app = Flask("int-bounds")
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
    registry = models.init_app(app, ResourcesSpec((counter,)))
    if ok:
        assert load_payload(registry, counter, {"n": sent}, "create") == {"n": sent}
        return
    with pytest.raises(ValidationFailed) as raised:
        load_payload(registry, counter, {"n": sent}, "create")
    assert raised.value.violations[0].property_path == "n"


@pytest.mark.parametrize(
    ("mode", "body", "expected"),
    [
        ("create", {"name": "a"}, {"name": "a", "active": True, "notes": None, "maker_id": None}),
        ("replace", {"name": "a"}, {"name": "a", "active": True, "notes": None, "maker_id": None}),
        ("patch", {"notes": "n"}, {"notes": "n"}),
        ("patch", {}, {}),
    ],
)
def test_modes(
    registry: ModelRegistry, mode: Any, body: dict[str, Any], expected: dict[str, Any]
) -> None:
    values = load_payload(registry, GADGET, body, mode)
    assert {k: values[k] for k in expected} == expected
    if mode == "patch":
        assert values == expected


def test_required_fields_are_required_except_on_patch(registry: ModelRegistry) -> None:
    part = specs.PART
    with pytest.raises(ValidationFailed) as raised:
        load_payload(registry, part, {}, "create")
    assert sorted(v.property_path for v in raised.value.violations) == ["gadget", "label"]
    assert load_payload(registry, part, {"label": "x"}, "patch") == {"label": "x"}


def test_ignored_keys(registry: ModelRegistry) -> None:
    body = {
        "@id": "/gadgets/1",
        "@type": "Gadget",
        "@context": "/c",
        "id": 5,
        "code": "C",
        "name": "n",
    }
    values = load_payload(registry, GADGET, body, "patch")
    assert values == {"name": "n"}


def test_default_values_are_fresh_copies(registry: ModelRegistry) -> None:
    first = load_payload(registry, GADGET, {"name": "a"}, "create")
    second = load_payload(registry, GADGET, {"name": "b"}, "create")
    assert first["active"] is True
    assert second["active"] is True
