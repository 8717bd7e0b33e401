"""Load ``resources.yaml``: parse, validate, cross-check, freeze.

:func:`load_resources` is the only entry point. It reports every problem of the file at
once, in a single :class:`ConfigError`, before anything else starts; a returned spec is
fully valid. Environment variables are read only for ``{$env: NAME}`` references, from
the mapping given (default: the process environment).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from app.config.build import build_spec
from app.config.document import parse
from app.config.errors import ConfigError, Problem, Problems
from app.config.rules import check_rules
from app.config.schema import DOCUMENT
from app.config.spec import ResourcesSpec
from app.config.validation import INVALID, validate


def load_resources(path: Path | str, environ: Mapping[str, str] | None = None) -> ResourcesSpec:
    """Read ``path`` into a frozen spec; raise :class:`ConfigError` listing every problem."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError as error:
        raise ConfigError([Problem(source, 1, "", "file not found", _not_found_fix())]) from error
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError([Problem(source, 1, "", f"cannot read the file: {error}")]) from error
    return load_text(text, source, os.environ if environ is None else environ)


def load_text(text: str, source: str, environ: Mapping[str, str]) -> ResourcesSpec:
    """Like :func:`load_resources` for YAML ``text`` said to come from ``source``."""
    document = parse(text, source, environ)
    problems = Problems(source, document.lines)
    problems.found.extend(document.problems)
    if document.data is None:
        problems.add("", "the file is empty", "declare at least 'resources:' with one resource")
        problems.raise_if_any()
    cleaned = validate(document.data, DOCUMENT, problems)
    if cleaned is not INVALID:
        check_rules(cleaned, problems)
    problems.raise_if_any()
    return build_spec(cleaned, source)


def _not_found_fix() -> str:
    return "create it (see docs/resources.md) or set RESOURCES_FILE"
