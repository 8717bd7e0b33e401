"""One contract: schemathesis over ``/docs.json`` finds nothing the API and its document
disagree on.

The shipped bookshop runs on a real gevent server; the ``st`` command (a subprocess, so the
generator and the server do not share a core) tests it from the document alone, with every
check (``--checks all``: server errors, status codes, content types, headers and bodies
against their schemas, schema-valid requests accepted, schema-invalid ones refused, the
``Allow`` header of unsupported methods, missing headers and authentication ignored,
resources available after their create and gone after their delete), in every phase:
the documented examples, the coverage of each keyword's boundaries, random fuzzing, and
stateful sequences that follow the document's links (create a book, then read, change,
delete it, review it). Runs are bounded in examples and seeded, so they are repeatable.

Three users: an administrator, who may write everything; a reader, who may write reviews
only (every other write is a 403 the document announces); and nobody, who gets the 401s.

The hooks in :mod:`tests.openapi.schemathesis_hooks` supply what a schema cannot say (which
items exist, which deletes cascade); they change no check. Any failure prints the
schemathesis report, with a ``curl`` line for each failing request.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from app import create_app
from app.auth.command import mint_user_token
from app.settings import Settings
from tests.services import LiveServer

ROOT = Path(__file__).resolve().parents[2]
USER_KEY = "contract-tests-only-users-key-of-at-least-32-bytes"
SEED = 20240501
ALL_PHASES = "examples,coverage,fuzzing,stateful"


def authorization(subject: str, *roles: str) -> str:
    token = mint_user_token(USER_KEY, "HS256", subject, roles, expires_in=3600)
    return f"Bearer {token}"


ADMIN = authorization("admin", "admin")
READER = authorization("Kim")


@pytest.fixture
def gateway(tmp_path: Path, serve: Callable[..., LiveServer]) -> str:
    """The bookshop's URL, on a fresh SQLite database holding one book."""
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'bookshop.sqlite'}",
        resources_path=ROOT / "resources.yaml",
    )
    application = create_app(settings, environ={"AUTH_JWT_KEY": USER_KEY})
    with application.app_context():
        application.extensions["model_registry"].db.create_all()
    url = serve(application).url
    book = {"title": "Dune", "author": "Frank Herbert"}
    created = httpx.post(f"{url}/books", json=book, headers={"Authorization": ADMIN})
    assert created.status_code == 201, created.text
    return url


def schemathesis(url: str, workdir: Path, *, user: str | None, phases: str, examples: int) -> None:
    """Run ``st run`` over the gateway's document as ``user`` (an ``Authorization``
    header, ``None``: anonymous) and fail with its report unless it found nothing."""
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{url}/docs.json",
        "--checks=all",
        f"--phases={phases}",
        f"--max-examples={examples}",
        f"--seed={SEED}",
        "--workers=1",
        "--request-timeout=10",
        "--output-sanitize=false",
        "--output-truncate=true",
    ]
    if user is not None:
        command.append(f"--header=Authorization: {user}")
    environment = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.openapi.schemathesis_hooks",
        "PYTHONPATH": str(ROOT),
        "GATEWAY_URL": url,
        "GATEWAY_AUTHORIZATION": user or "",
        "NO_COLOR": "1",
    }
    # The working directory keeps schemathesis' own files (crash records) out of the tree.
    result = subprocess.run(
        command, cwd=workdir, env=environment, capture_output=True, text=True, timeout=300
    )
    print(result.stdout)  # shown with -s or -rP: what was run, phase by phase
    if result.returncode != 0:
        pytest.fail(f"schemathesis found problems:\n{result.stdout}\n{result.stderr}")


def test_an_administrator_finds_the_contract_kept(gateway: str, tmp_path: Path) -> None:
    schemathesis(gateway, tmp_path, user=ADMIN, phases=ALL_PHASES, examples=15)


def test_a_reader_finds_the_contract_kept(gateway: str, tmp_path: Path) -> None:
    schemathesis(gateway, tmp_path, user=READER, phases="examples,fuzzing,stateful", examples=8)


def test_nobody_finds_the_contract_kept(gateway: str, tmp_path: Path) -> None:
    schemathesis(gateway, tmp_path, user=None, phases="examples,fuzzing", examples=5)
