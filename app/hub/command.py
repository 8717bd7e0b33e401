"""``flask hub ...`` commands."""

from __future__ import annotations

import click

hub_command = click.Group("hub", help="Mercure hub tools.")
