"""MkDocs hooks: the repository's README.md is the site's front page (``index.md``) and
its ARCHITECTURE.md the ``architecture.md`` page, so that each is written once.

Links are written for readers of the repository (``docs/hub.md`` from the README,
``../README.md`` from a page); they are rewritten to the site's own pages here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

PAGES = {"README.md": "index.md", "ARCHITECTURE.md": "architecture.md"}
_LINK = re.compile(r"\]\((?:\.\./)?(docs/|README\.md|ARCHITECTURE\.md)")


def _site_link(found: re.Match[str]) -> str:
    target = found.group(1)
    return "](" + ("" if target == "docs/" else PAGES[target])


def on_files(files: Files, config: Any) -> Files:
    root = Path(config.config_file_path).parent
    for source, page in PAGES.items():
        text = (root / source).read_text(encoding="utf-8")
        files.append(File.generated(config, page, content=text))
    return files


def on_page_markdown(markdown: str, **_: Any) -> str:
    return _LINK.sub(_site_link, markdown)
