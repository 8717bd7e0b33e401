""" "Did you mean ...?" suggestions for misspelled names."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate most similar to ``word`` (case-insensitive), or ``None`` if none is close.

    Similarity is :mod:`difflib`'s ratio (at least 0.6); failing that, a candidate that is a
    prefix of ``word`` or starts with it (``ascending`` -> ``asc``).
    """
    options = list(candidates)
    by_lower = {option.lower(): option for option in options}
    lowered = word.lower()
    matches = difflib.get_close_matches(lowered, list(by_lower), n=1, cutoff=0.6)
    if matches:
        return by_lower[matches[0]]
    prefixes = [o for o in by_lower if o and (lowered.startswith(o) or o.startswith(lowered))]
    return by_lower[max(prefixes, key=len)] if lowered and prefixes else None


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """``"did you mean 'x'?"`` for the closest candidate, or ``""``."""
    match = closest(word, candidates)
    return f"did you mean '{match}'?" if match is not None else ""


def fix_for(word: str, candidates: Iterable[str], what: str = "one of") -> str:
    """A fix hint: a suggestion when one is close, else the list of accepted names."""
    options = list(candidates)
    suggestion = did_you_mean(word, options)
    if suggestion:
        return suggestion
    return f"use {what} {', '.join(options)}" if options else ""
