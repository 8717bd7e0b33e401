"""Placeholder loader (replaced by the validating loader)."""

from __future__ import annotations

from pathlib import Path

from app.config.spec import ResourcesSpec


def load_resources(path: Path) -> ResourcesSpec:
    """Load ``path`` into a spec."""
    return ResourcesSpec(resources=(), source=str(path))
