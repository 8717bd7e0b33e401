"""``flask resources ...`` commands."""

from __future__ import annotations

import click

resources_command = click.Group("resources", help="Inspect and validate resources.yaml.")
