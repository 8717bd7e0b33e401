"""The gateway's own tables beside the resources': the publishing outbox and its lease.

They belong to every app's metadata, so migrations create them and never see them as
drift; :mod:`app.publish.outbox` reads and writes them.
"""

from __future__ import annotations

import sqlalchemy as sa

from app.config.naming import LEASE_TABLE, OUTBOX_TABLE

__all__ = ["outbox_tables"]


def outbox_tables(metadata: sa.MetaData) -> tuple[sa.Table, sa.Table]:
    """Define ``mercure_outbox`` and ``mercure_relay_lease`` on ``metadata``."""
    big = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    outbox = sa.Table(
        OUTBOX_TABLE,
        metadata,
        sa.Column("seq", big, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(32), nullable=False, unique=True),
        sa.Column("hub", sa.String(255), nullable=False),
        sa.Column("update_id", sa.Text(), nullable=False),
        sa.Column("topics", sa.Text(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("private", sa.Boolean(), nullable=False),
        sa.Column("type", sa.Text(), nullable=True),
        sa.Column("retry", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Index("ix_mercure_outbox_hub_status_seq", "hub", "status", "seq"),
    )
    leases = sa.Table(
        LEASE_TABLE,
        metadata,
        sa.Column("hub", sa.String(255), primary_key=True),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
    )
    return outbox, leases
