"""Collections limited by a read rule: the SQL of a residual selects exactly the stored rows
the rule allows, NULLs included, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from hypothesis import given

from app.access.query import where
from app.access.residual import residual
from app.access.user import User
from tests.access.conftest import Store
from tests.access.rules import examples, parse_read_rule, rows, rule_sources, users


@examples(150)
@given(source=rule_sources, user=users, values=rows)
def test_sql_selects_exactly_the_rows_the_rule_allows(
    store: Store, source: str, user: User | None, values: list[dict[str, Any]]
) -> None:
    expression = parse_read_rule(source)
    loaded = store.replace(values)
    condition = residual(expression, user)
    allowed = {row.id for row in loaded if expression.allows(user, row)}
    assert store.ids(where(condition, store.model)) == allowed, (source, user, condition)
    if condition is False:
        assert allowed == set()


def test_every_row_and_no_row(store: Store) -> None:
    loaded = store.replace([{"author": None}, {"author": "alice"}])
    assert store.ids(where(True, store.model)) == {row.id for row in loaded}
    assert store.ids(where(False, store.model)) == set()
