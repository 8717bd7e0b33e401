"""The authenticated user, as security expressions see it."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["User"]


@dataclass(frozen=True)
class User:
    """``id`` is the token's ``sub``; ``roles`` the names of its roles claim;
    ``expires_at`` its ``exp`` (epoch seconds, ``None`` when it has none).

    Anonymous requests have no ``User`` at all (``None``), never an empty one.
    """

    id: str
    roles: tuple[str, ...] = ()
    expires_at: float | None = None
