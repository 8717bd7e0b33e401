"""Error documents read as API Platform Admin reads them: expanded by jsonld.js, their
context fetched from the API (never from elsewhere), ``title`` and ``description`` are
Hydra's terms, so the Admin's notifications show the error's text."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.interop.clients import HERE, require_node
from tests.services import LiveServer
from tests.ui.gateway import start_gateway, user_token

HYDRA = "http://www.w3.org/ns/hydra/core#"


def expand(url: str, method: str = "GET", body: str = "", token: str = "") -> dict[str, Any]:
    node = require_node("jsonld")
    result = subprocess.run(
        [node, str(HERE / "expand_error.mjs"), url, method, *([body] if body else [])],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=HERE,
        env={**os.environ, "TOKEN": token},
    )
    assert result.returncode == 0, result.stderr
    output: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    origin = "/".join(url.split("/")[:3])
    assert all(u.startswith(f"{origin}/") for u in output["requested"]), output["requested"]
    return output


@pytest.fixture
def api(serve: Callable[..., LiveServer], tmp_path: Path) -> str:
    return start_gateway(serve, tmp_path / "gateway.db").live.url


def test_an_error_expands_to_hydra_title_and_description(api: str) -> None:
    output = expand(f"{api}/books/999")
    assert output["status"] == 404
    assert output["requested"] == [f"{api}/contexts/Error"]
    (error,) = output["expanded"]
    assert error["@type"] == [f"{HYDRA}Error"]
    assert error[f"{HYDRA}title"] == [{"@value": "Not Found"}]
    assert error[f"{HYDRA}description"] == [{"@value": output["document"]["detail"]}]


def test_a_violation_list_expands_with_its_violations(api: str) -> None:
    body = json.dumps({"title": "x" * 256, "author": "A"})
    output = expand(f"{api}/books", "POST", body, user_token("root", "admin"))
    assert output["status"] == 422
    (error,) = output["expanded"]
    assert error[f"{HYDRA}description"] == [{"@value": output["document"]["detail"]}]
    vocab = f"{api}/docs.jsonld#"
    (violation,) = error[f"{vocab}violations"]
    assert violation[f"{vocab}propertyPath"] == [{"@value": "title"}]
    message = "This value is too long. It should have 255 characters or less."
    assert violation[f"{vocab}message"] == [{"@value": message}]
