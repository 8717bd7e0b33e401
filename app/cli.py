"""Flask CLI commands, gathered from the packages that own them.

``flask hub token`` mints publisher and subscriber tokens and ``flask schema check`` /
``flask schema sync`` compare the database with ``resources.yaml``; both groups are
registered on the app. ``flask resources check`` is a ``flask.commands`` entry point (see
``pyproject.toml``) so it runs without building the app, and so still works when
``resources.yaml`` is broken; ``flask db ...`` comes from Flask-Migrate.
"""

from __future__ import annotations

import click
from flask import Flask, current_app

from app.hub.command import hub_command
from app.models import drift


def schema_command(*, production: bool) -> click.Group:
    """``flask schema``, judging drift as ``production`` (``GATEWAY_ENV``) does."""
    group = click.Group(
        "schema", help="Compare the database with resources.yaml (see app/models/drift.py)."
    )

    @group.command("check")
    def check_command() -> None:
        """Exit with status 1, listing each difference and the fix, when the database does
        not match resources.yaml."""
        why = drift.refusal(drift.check(current_app), production=production)
        if why is not None:
            raise click.ClickException(why)
        click.echo("the database matches resources.yaml")

    @group.command("sync")
    @click.option("-m", "--message", default=None, help="Message of the revision written.")
    def sync_command(message: str | None) -> None:
        """In development, write and apply the migration of additive changes to
        resources.yaml (a new resource, a nullable or defaulted field, a relation, an
        index); anything else, and anything in production, exits with status 1 and the
        list."""
        ok, report = drift.sync(current_app, production=production, message=message)
        if not ok:
            raise click.ClickException(report)
        click.echo(report)

    return group


def init_app(app: Flask, *, production: bool = False) -> None:
    """Register the app-bound command groups on ``app``."""
    app.cli.add_command(hub_command)
    app.cli.add_command(schema_command(production=production))
