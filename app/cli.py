"""Flask CLI commands, gathered from the packages that own them.

``flask hub token`` mints publisher and subscriber tokens and is registered on the app;
``flask resources check`` is a ``flask.commands`` entry point (see ``pyproject.toml``) so
it runs without building the app, and so still works when ``resources.yaml`` is broken;
``flask db ...`` comes from Flask-Migrate.
"""

from __future__ import annotations

from flask import Flask

from app.hub.command import hub_command


def init_app(app: Flask) -> None:
    """Register the app-bound command groups on ``app``."""
    app.cli.add_command(hub_command)
