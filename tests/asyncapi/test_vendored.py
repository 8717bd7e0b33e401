"""The AsyncAPI page's renderer is the npm package's own standalone bundle, unmodified.

``app/asyncapi/static/`` holds ``@asyncapi/react-component``'s ``browser/standalone/index.js``
and ``styles/default.min.css`` at the version ``tests/interop/package.json`` pins; to update
them, change that version, ``npm install --prefix tests/interop`` and copy the two files
(and the licence files) again.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.services import unavailable

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "tests" / "interop" / "node_modules" / "@asyncapi" / "react-component"
STATIC = ROOT / "app" / "asyncapi" / "static"


@pytest.mark.parametrize(
    ("vendored", "original"),
    [
        ("asyncapi-react.js", "browser/standalone/index.js"),
        ("asyncapi-react.js.LICENSE.txt", "browser/standalone/index.js.LICENSE.txt"),
        ("asyncapi-react.css", "styles/default.min.css"),
        ("asyncapi-react.LICENSE.txt", "LICENSE"),
    ],
)
def test_the_vendored_files_are_the_packages(vendored: str, original: str) -> None:
    if not PACKAGE.is_dir():
        unavailable(
            "@asyncapi/react-component",
            "run `npm install --prefix tests/interop` (make test does)",
        )
    assert (STATIC / vendored).read_bytes() == (PACKAGE / original).read_bytes()
