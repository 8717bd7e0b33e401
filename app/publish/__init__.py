"""Committed changes -> Mercure updates (placeholder)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask

from app.config.spec import ResourcesSpec
from app.hub import Hub
from app.models import ModelRegistry
from app.settings import Settings


@dataclass(frozen=True)
class Publisher:
    """Placeholder."""

    discovery_url: str | None = None


def init_app(
    app: Flask, spec: ResourcesSpec, registry: ModelRegistry, hub: Hub, settings: Settings
) -> Publisher:
    """Start publishing committed changes of ``spec``'s Mercure resources."""
    return Publisher()
