"""Specs the REST tests run against, built directly as the config loader would.

``CATALOG`` exercises every field type and option, relation kind, filter and operation
set; :data:`STRATEGIES` lists the search strategies, one ``Word`` field per strategy.
"""

from __future__ import annotations

from app.config.spec import (
    SEARCH_STRATEGIES,
    FieldSpec,
    FilterSpec,
    MercureSpec,
    OrderSpec,
    PaginationSpec,
    RelationSpec,
    ResourceSpec,
    ResourcesSpec,
)

STRATEGIES = SEARCH_STRATEGIES

MAKER = ResourceSpec(
    name="Maker",
    route="/makers",
    table="maker",
    fields=(FieldSpec("name", "string", required=True, nullable=False, max_length=40),),
)

GADGET = ResourceSpec(
    name="Gadget",
    route="/gadgets",
    table="gadget",
    fields=(
        FieldSpec(
            "name",
            "string",
            required=True,
            nullable=False,
            unique=True,
            max_length=20,
            groups=("public",),
        ),
        FieldSpec("notes", "text"),
        FieldSpec("quantity", "integer", minimum=0, maximum=1000),
        FieldSpec("weight", "float"),
        FieldSpec("price", "decimal", precision=8, scale=2),
        FieldSpec("active", "boolean", nullable=False, default=True),
        FieldSpec("releaseDate", "date"),
        FieldSpec("launchedAt", "datetime"),
        FieldSpec("serial", "uuid"),
        FieldSpec("specs", "json"),
        FieldSpec("color", "enum", choices=("red", "green", "blue")),
        FieldSpec("secret", "string", write_only=True),
        FieldSpec("code", "string", read_only=True, default="G-0"),
        FieldSpec("internal", "string", groups=("admin",)),
    ),
    relations=(RelationSpec("maker", "Maker", on_delete="set_null", groups=("public",)),),
    pagination=PaginationSpec(items_per_page=3, maximum_items_per_page=5),
    filters=FilterSpec(
        search=(
            ("name", "exact"),
            ("color", "exact"),
            ("maker", "exact"),
            ("serial", "exact"),
            ("specs", "exact"),
        ),
        range=("quantity", "price", "weight", "specs"),
        date=("releaseDate", "launchedAt"),
        boolean=("active",),
        exists=("notes", "maker", "serial"),
    ),
    order=OrderSpec(fields=("name", "quantity", "price", "launchedAt", "maker", "specs")),
    mercure=MercureSpec(enabled=True),
)

PART = ResourceSpec(
    name="Part",
    route="/parts",
    table="part",
    fields=(FieldSpec("label", "string", required=True, nullable=False),),
    relations=(
        RelationSpec("gadget", "Gadget", required=True, nullable=False, on_delete="cascade"),
        RelationSpec("supplier", "Maker", on_delete="restrict"),
    ),
)

WORD = ResourceSpec(
    name="Word",
    route="/words",
    table="word",
    fields=tuple(FieldSpec(strategy, "string") for strategy in STRATEGIES),
    filters=FilterSpec(search=tuple((strategy, strategy) for strategy in STRATEGIES)),
    order=OrderSpec(default=(("id", "desc"),)),
    pagination=PaginationSpec(enabled=False),
)

NOTE = ResourceSpec(
    name="Note",
    route="/notes",
    table="note",
    fields=(FieldSpec("text", "text"),),
    operations=("get_collection", "get"),
)

CATALOG = ResourcesSpec(resources=(MAKER, GADGET, PART, WORD, NOTE))
