"""``resources.yaml`` -> :class:`ResourcesSpec`: load, validate, freeze.

:func:`load_resources` is the entry point; it raises :class:`ConfigError` (with every
:class:`Problem` found) or returns a fully valid, frozen :class:`ResourcesSpec`.
Stages (pure; only the loader reads the file): :mod:`~app.config.document` (YAML, line
numbers, ``$env``),
:mod:`~app.config.validation` (shapes from the key table in :mod:`~app.config.schema`),
:mod:`~app.config.rules` (cross-checks), :mod:`~app.config.build` (freeze). This package
knows nothing of Flask or SQLAlchemy; only :mod:`~app.config.command` knows click.
"""

from app.config.errors import ConfigError, Problem
from app.config.loader import load_resources
from app.config.spec import ResourcesSpec

__all__ = ["ConfigError", "Problem", "ResourcesSpec", "load_resources"]
