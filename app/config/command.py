"""``flask resources ...`` commands (also ``python -m app.config``).

``check [PATH]`` validates a resources file without touching the database or building the
app: it prints a summary and exits 0, or prints every problem and exits 1. ``show [PATH]``
prints the effective configuration with every default filled in. ``PATH`` defaults to
``RESOURCES_FILE`` or ``resources.yaml``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from ruamel.yaml import YAML

from app.config.errors import ConfigError
from app.config.loader import load_resources
from app.config.render import to_data
from app.config.spec import ResourceSpec, ResourcesSpec
from app.settings import Settings

resources_command = click.Group("resources", help="Inspect and validate resources.yaml.")

_PATH = click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))


def _load(path: Path | None) -> ResourcesSpec:
    target = path if path is not None else Settings.from_env().resources_path
    try:
        return load_resources(target)
    except ConfigError as error:
        count = len(error.problems) or 1
        noun = "problem" if count == 1 else "problems"
        click.echo(f"{target}: {count} {noun}", err=True)
        click.echo(str(error), err=True)
        raise click.exceptions.Exit(1) from error


@resources_command.command("check")
@_PATH
def check_command(path: Path | None) -> None:
    """Validate PATH (default: $RESOURCES_FILE or resources.yaml) and summarize it."""
    spec = _load(path)
    click.echo(f"{spec.source}: OK, {len(spec.resources)} resource(s)")
    for resource in spec.resources:
        click.echo("  " + summary(resource))


@resources_command.command("show")
@_PATH
def show_command(path: Path | None) -> None:
    """Print the effective configuration of PATH with defaults filled in, as YAML."""
    spec = _load(path)
    YAML().dump(to_data(spec), sys.stdout)


def summary(resource: ResourceSpec) -> str:
    """One line: name, route, table, counts and publishing."""
    mercure = "off"
    if resource.mercure.enabled:
        mercure = "private" if resource.mercure.private else "public"
    return (
        f"{resource.name}: {resource.route} (table {resource.table}), "
        f"{len(resource.fields)} field(s), {len(resource.relations)} relation(s), "
        f"operations {', '.join(resource.operations)}, mercure {mercure}"
    )
