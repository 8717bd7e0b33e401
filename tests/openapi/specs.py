"""Specs shared by the OpenAPI tests: one resource per shape the generator must handle."""

from __future__ import annotations

import datetime as dt
import decimal

from app.config.spec import (
    FIELD_TYPES,
    ApiInfo,
    FieldSpec,
    FilterSpec,
    OrderSpec,
    PaginationSpec,
    RelationSpec,
    ResourceSpec,
    ResourcesSpec,
)

_EVERY_TYPE = tuple(
    FieldSpec(name=f"a_{kind}", type=kind) for kind in FIELD_TYPES if kind != "enum"
)

GADGET = ResourceSpec(
    name="Gadget",
    route="/gadgets",
    table="gadgets",
    description="Every field type and option.",
    fields=(
        *_EVERY_TYPE,
        FieldSpec(name="label", type="string", required=True, nullable=False, max_length=40),
        FieldSpec(name="colour", type="enum", choices=("red", "green"), default="red"),
        FieldSpec(name="size", type="enum", choices=("s", "m"), nullable=False),
        FieldSpec(name="rank", type="integer", minimum=0, maximum=10, nullable=False),
        FieldSpec(name="weight", type="float", minimum=0.5, maximum=99.5),
        FieldSpec(name="price", type="decimal", minimum=0, precision=8, scale=2),
        FieldSpec(name="price_default", type="decimal", default=decimal.Decimal("1.50")),
        FieldSpec(name="since", type="date", minimum=0.0, default=dt.date(2024, 1, 2)),
        FieldSpec(name="seen", type="datetime", maximum=1.7e9),
        FieldSpec(name="flag", type="boolean", default=False, nullable=False),
        FieldSpec(name="secret", type="string", write_only=True, description="Never shown."),
        FieldSpec(name="computed", type="integer", read_only=True, required=True),
        FieldSpec(name="unique_code", type="uuid", unique=True),
        FieldSpec(name="meta", type="json", default={"k": [1, 2]}),
    ),
    relations=(
        RelationSpec(name="owner", target="Owner", required=True, nullable=False),
        RelationSpec(name="backup", target="Owner", on_delete="set_null", write_only=True),
    ),
    pagination=PaginationSpec(items_per_page=10, maximum_items_per_page=50),
    filters=FilterSpec(
        search=(("label", "ipartial"), ("owner", "exact"), ("a_integer", "exact")),
        range=("rank", "weight"),
        date=("since", "seen"),
        boolean=("flag", "a_boolean"),
        exists=("a_text", "backup"),
    ),
    order=OrderSpec(fields=("label", "rank"), default=(("rank", "desc"),)),
)

OWNER = ResourceSpec(
    name="Owner",
    route="/owners",
    table="owners",
    fields=(FieldSpec(name="name", type="string", required=True, nullable=False),),
    operations=("get", "get_collection"),
    pagination=PaginationSpec(enabled=False),
)

LOG = ResourceSpec(
    name="LogEntry",
    route="/log_entries",
    table="log_entries",
    fields=(FieldSpec(name="message", type="text"),),
    operations=("post", "delete"),
    pagination=PaginationSpec(client_items_per_page=False),
)

EVERYTHING = ResourcesSpec(
    resources=(GADGET, OWNER, LOG),
    api=ApiInfo(title="Gadget shop", version="2.3.4", description="Test API."),
)
