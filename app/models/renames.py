"""Columns an earlier version named differently, renamed in place by migrations.

Earlier versions stored a camelCase relation ``favouriteBook`` in the column
``favouriteBook_id``; relations now follow the fields' snake_case naming
(``favourite_book_id``, see :func:`app.models.columns.relation_column`). Alembic's
comparison sees such a column as dropped and another added, which would lose its values.
Where the database has the earlier name and lacks the current one, :func:`legacy_columns`
names the pair, the drift check (:mod:`app.models.drift`) reports one additive rename, and
:func:`rename_in_place` rewrites the revision ``flask db migrate`` writes into an
``ALTER ... RENAME COLUMN`` (the column's index and foreign key follow, under their new
names), so every value is kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from alembic.operations import ops

from app.config.spec import ResourcesSpec
from app.models.columns import relation_column

__all__ = ["legacy_columns", "rename_in_place", "renamed_pairs"]


def legacy_columns(spec: ResourcesSpec) -> dict[tuple[str, str], str]:
    """``{(table, earlier column name): current column name}`` for every relation whose
    column an earlier version named differently."""
    renames: dict[tuple[str, str], str] = {}
    for resource in spec.resources:
        for relation in resource.relations:
            earlier, current = f"{relation.name}_id", relation_column(relation)
            if earlier != current:
                renames[(resource.table, earlier)] = current
    return renames


def renamed_pairs(
    diffs: list[Any], renames: Mapping[tuple[str, str], str]
) -> dict[tuple[str, str], str]:
    """The renames among Alembic comparison ``diffs``: an earlier column the database has
    and the models lack, paired with its current name that the models have and the
    database lacks. Returns ``{(table, earlier): current}``."""
    removed = {(d[2], d[3].name) for d in diffs if isinstance(d, tuple) and d[0] == "remove_column"}
    added = {(d[2], d[3].name) for d in diffs if isinstance(d, tuple) and d[0] == "add_column"}
    return {
        (table, earlier): current
        for (table, earlier), current in renames.items()
        if (table, earlier) in removed and (table, current) in added
    }


def rename_in_place(script: ops.MigrationScript, renames: Mapping[tuple[str, str], str]) -> None:
    """Turn each dropped earlier column and added current one of ``script`` into a rename
    (and the reverse rename in its downgrade)."""
    _rewrite(script.upgrade_ops, dict(renames))
    _rewrite(script.downgrade_ops, {(t, new): old for (t, old), new in renames.items()})


def _rewrite(container: ops.OpContainer | None, renames: dict[tuple[str, str], str]) -> None:
    if container is None:
        return
    replaced: list[tuple[ops.ModifyTableOps, list[ops.MigrateOperation]]] = []
    for table_ops in container.ops:
        if not isinstance(table_ops, ops.ModifyTableOps):
            continue
        table = table_ops.table_name
        dropped = {op.column_name: op for op in table_ops.ops if isinstance(op, ops.DropColumnOp)}
        rewritten: list[ops.MigrateOperation] = []
        consumed: set[str] = set()
        for op in table_ops.ops:
            if isinstance(op, ops.AddColumnOp):
                earlier = next(
                    (
                        old
                        for (t, old), new in renames.items()
                        if t == table and new == op.column.name and old in dropped
                    ),
                    None,
                )
                if earlier is not None:
                    consumed.add(earlier)
                    rewritten.append(
                        ops.AlterColumnOp(
                            table,
                            earlier,
                            schema=op.schema,
                            modify_name=op.column.name,
                            existing_type=op.column.type,
                            existing_nullable=op.column.nullable,
                        )
                    )
                    continue
            rewritten.append(op)
        if not consumed:
            continue
        kept = [
            op
            for op in rewritten
            if not (isinstance(op, ops.DropColumnOp) and op.column_name in consumed)
        ]
        # Three steps, each its own batch on SQLite (whose batch mode cannot rename a
        # column and index it under the new name at once): drop the indexes and
        # constraints, rename, then create the new ones and make the other changes.
        steps = (
            [op for op in kept if isinstance(op, ops.DropIndexOp | ops.DropConstraintOp)],
            [op for op in kept if isinstance(op, ops.AlterColumnOp) and op.modify_name],
        )
        rest = [op for op in kept if not any(op in step for step in steps)]
        split: list[ops.MigrateOperation] = [
            ops.ModifyTableOps(table, step, schema=table_ops.schema)
            for step in (*steps, rest)
            if step
        ]
        replaced.append((table_ops, split))
    for table_ops, steps_of_table in replaced:
        index = container.ops.index(table_ops)
        container.ops[index : index + 1] = steps_of_table
