"""Flask CLI commands, gathered from the packages that own them.

``flask resources check`` validates ``resources.yaml``; ``flask hub token`` mints
publisher and subscriber tokens; ``flask db ...`` comes from Flask-Migrate.
"""

from __future__ import annotations

from flask import Flask

from app.config.command import resources_command
from app.hub.command import hub_command


def init_app(app: Flask) -> None:
    """Register every command group on ``app``."""
    app.cli.add_command(resources_command)
    app.cli.add_command(hub_command)
