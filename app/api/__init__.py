"""REST views from the spec (placeholder)."""

from __future__ import annotations

from flask import Flask

from app.config.spec import ResourcesSpec
from app.models import ModelRegistry


def init_app(app: Flask, spec: ResourcesSpec, registry: ModelRegistry, hub_url: str | None) -> None:
    """Register the REST routes."""
