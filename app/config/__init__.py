"""``resources.yaml`` -> :class:`ResourcesSpec`: load, validate, freeze.

This package knows nothing of Flask or SQLAlchemy.
"""

from app.config.errors import ConfigError
from app.config.loader import load_resources
from app.config.spec import ResourcesSpec

__all__ = ["ConfigError", "ResourcesSpec", "load_resources"]
