"""Hub settings (placeholder)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


class HubSettingsError(Exception):
    """Hub settings are unusable."""


@dataclass(frozen=True)
class HubSettings:
    """Placeholder."""

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, production: bool = False
    ) -> HubSettings:
        return cls()
