"""The documentation site builds in strict mode: a broken link, a missing page or anchor,
or a page left out fails (``make docs`` runs the same build)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.docs.examples import ROOT


def test_the_site_builds_in_strict_mode(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for page in ("index.html", "architecture/index.html", "settings/index.html"):
        assert (tmp_path / page).is_file(), page
    # The front page is the README, its links turned into the site's.
    front = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert 'href="security/"' in front
    assert "docs/security.md" not in front


def test_the_readme_is_a_front_page() -> None:
    """What it is, the two commands, the tour and a map: the reference lives in docs/."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 300
    headings = [line for line in lines if line.startswith("## ")]
    assert headings == ["## Quick start", "## A five-minute tour", "## Documentation"]


def test_pages_name_only_sections_the_readme_has() -> None:
    """A page sending the reader to "the README's X section" names a heading it has."""
    headings = {
        line.lstrip("#").strip().lower()
        for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
        if line.startswith("#")
    }
    pages = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "ARCHITECTURE.md"]
    stale = [
        f"{page.relative_to(ROOT)}: the README's {name} section"
        for page in pages
        for name in re.findall(r"README's\s+(.+?)\s+section", page.read_text(encoding="utf-8"))
        if name.lower() not in headings
    ]
    assert not stale, stale
