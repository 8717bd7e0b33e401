"""ResourcesSpec -> Flask-SQLAlchemy models (placeholder)."""

from __future__ import annotations

from flask import Flask

from app.config.spec import ResourcesSpec


class ModelRegistry:
    """Placeholder."""


def init_app(app: Flask, spec: ResourcesSpec) -> ModelRegistry:
    """Create the database extension and models for ``spec``."""
    return ModelRegistry()
