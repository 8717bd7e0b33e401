"""The one table of environment settings drives parsing, errors, ``flask settings`` and the
documentation's settings page, so that the four never disagree."""

from __future__ import annotations

import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from app import STARTUP_ERRORS, create_app
from app.environment import (
    VARIABLES,
    Algorithm,
    Algorithms,
    Choice,
    Duration,
    Environment,
    Flag,
    HttpUrl,
    Integer,
    Seconds,
    Size,
    markdown,
    variable,
)
from app.hub.subscriber import DEFAULT_MAX_QUEUE, DEFAULT_MAX_QUEUE_BYTES
from app.hub.topics import DEFAULT_LIMITS, MAX_LENGTH_CEILING, MAX_VARIABLES_CEILING

ROOT = Path(__file__).resolve().parent.parent
FLASK = [sys.executable, "-m", "flask"]


def test_the_docs_settings_page_is_the_table() -> None:
    page = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    assert page == markdown(), (
        "docs/settings.md differs from the table in app/environment.py; "
        "regenerate it: flask settings --markdown > docs/settings.md"
    )


def test_every_variable_is_documented_once_with_its_component() -> None:
    names = [entry.name for entry in VARIABLES]
    assert len(names) == len(set(names))
    page = markdown()
    for entry in VARIABLES:
        assert re.search(rf"^\| `{re.escape(entry.name)}` \|", page, re.M), entry.name
        assert entry.meaning


def test_only_the_table_reads_the_environment() -> None:
    """Settings enter through :mod:`app.environment` alone (``resources.yaml``'s
    ``{$env: NAME}`` references are the file's own values, read by its loader)."""
    allowed = {ROOT / "app" / "environment.py", ROOT / "app" / "config" / "loader.py"}
    readers = re.compile(r"os\.environ|os\.getenv|getenv\(")
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "app").rglob("*.py"))
        if path not in allowed and readers.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
    configs = re.compile(r"\.config\[|\.config\.get\(")
    side_channels = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "app").rglob("*.py"))
        if configs.search(path.read_text(encoding="utf-8"))
    ]
    # Flask-SQLAlchemy's URL, set by create_app; the migrations directory of the tests.
    assert side_channels == ["app/factory.py", "app/models/__init__.py"]


def test_an_undeclared_variable_cannot_be_read() -> None:
    with pytest.raises(KeyError):
        Environment({}).text("NOT_A_SETTING")
    with pytest.raises(TypeError, match="MERCURE_HEARTBEAT is declared as Duration"):
        Environment({}).integer("MERCURE_HEARTBEAT")


_INVALID = {
    Flag: "maybe",
    Integer: "many",
    Duration: "soon",
    Seconds: "soon",
    Size: "lots",
    Choice: "neither",
    Algorithm: "none",
    Algorithms: "none",
    HttpUrl: "shop.example",
}
# A named hub's variables are read only for the hubs resources.yaml names.
_CHECKED = [
    e
    for e in VARIABLES
    if type(e.kind) in _INVALID and e.component != "gunicorn" and "<NAME>" not in e.name
]


@pytest.mark.parametrize("entry", _CHECKED, ids=[e.name for e in _CHECKED])
def test_an_invalid_value_stops_the_start_naming_the_variable(
    entry: object, tmp_path: Path
) -> None:
    assert hasattr(entry, "name")
    name, kind = entry.name, entry.kind  # type: ignore[attr-defined]
    environ = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'gateway.db'}",
        "RESOURCES_FILE": str(ROOT / "resources.yaml"),
        "MERCURE_JWT_KEY": "k" * 64,
        "AUTH_JWT_KEY": "u" * 64,
        name: _INVALID[type(kind)],
    }
    with pytest.raises(STARTUP_ERRORS) as caught:
        create_app(environ=environ)
    assert name in str(caught.value)


@pytest.mark.parametrize(
    "raw", ["shop.example", "/api", "ftp://shop.example", "https://x..y", "https://h:99999/"]
)
def test_an_http_url_must_be_absolute_and_writable_as_a_uri(raw: str) -> None:
    with pytest.raises(ValueError, match=r"PUBLIC_URL=.* is not an absolute http\(s\) URL"):
        HttpUrl("https://shop.example").parse("PUBLIC_URL", raw)


def test_an_http_url_may_be_an_iri() -> None:
    iri = "https://bücher.example/☃/"
    assert HttpUrl("https://shop.example").parse("PUBLIC_URL", f" {iri} ") == iri


def test_library_defaults_agree_with_the_table() -> None:
    assert variable("MERCURE_TOPIC_TEMPLATE_MAX_LENGTH").default == DEFAULT_LIMITS.max_length
    assert variable("MERCURE_TOPIC_TEMPLATE_MAX_VARIABLES").default == (
        DEFAULT_LIMITS.max_variables
    )
    assert variable("MERCURE_TOPIC_TEMPLATES_PER_SUBSCRIPTION").default == (
        DEFAULT_LIMITS.max_templates
    )
    length = variable("MERCURE_TOPIC_TEMPLATE_MAX_LENGTH").kind
    count = variable("MERCURE_TOPIC_TEMPLATE_MAX_VARIABLES").kind
    assert isinstance(length, Integer)
    assert length.maximum == MAX_LENGTH_CEILING
    assert isinstance(count, Integer)
    assert count.maximum == MAX_VARIABLES_CEILING
    assert variable("MERCURE_SUBSCRIBER_QUEUE_SIZE").default == DEFAULT_MAX_QUEUE
    assert variable("MERCURE_SUBSCRIBER_QUEUE_BYTES").default == DEFAULT_MAX_QUEUE_BYTES


def test_gunicorn_conf_reads_the_table_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    gunicorn = [entry for entry in VARIABLES if entry.component == "gunicorn"]
    for entry in gunicorn:
        monkeypatch.delenv(entry.name, raising=False)
    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    table = {entry.name: entry.default for entry in gunicorn}
    assert conf["bind"] == f"{table['HOST']}:{table['PORT']}"
    assert conf["workers"] == table["WEB_CONCURRENCY"]
    assert conf["worker_connections"] == table["WORKER_CONNECTIONS"]
    assert conf["graceful_timeout"] == table["GRACEFUL_TIMEOUT"]
    assert conf["limit_request_line"] == table["LIMIT_REQUEST_LINE"]
    source = (ROOT / "gunicorn.conf.py").read_text(encoding="utf-8")
    read = set(re.findall(r"os\.environ\.get\(\s*[\"']([A-Z_]+)[\"']", source))
    # Every variable of the server is read there; the others it reads are declared too
    # (the transport, log format and metrics switch, which the app reads as well).
    assert read >= set(table)
    assert read - set(table) <= {"MERCURE_TRANSPORT_URL", "LOG_FORMAT", "METRICS"}


def _flask_settings(**environ: str) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not any(
            entry.pattern.fullmatch(key) if entry.pattern else key == entry.name
            for entry in VARIABLES
        )
    }
    env.pop("FLASK_APP", None)  # found through .flaskenv
    return subprocess.run(
        [*FLASK, "settings"],
        cwd=ROOT,
        env={**env, **environ},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_flask_settings_lists_effective_values_with_secrets_masked() -> None:
    result = _flask_settings(
        MERCURE_JWT_KEY="hub-secret-key",
        AUTH_MERCURE_PRIVATE_KEY="private-key",
        DATABASE_URL="postgresql+psycopg://gateway:db-password@db/gateway",
        MERCURE_HUBS_EU_WEST_PUBLISH_URL="http://eu/.well-known/mercure",
        MERCURE_HUBS_EU_WEST_JWT_TOKEN="eu-token",
        MERCURE_HEARTBEAT="1m30s",
    )
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(None, 1) for line in result.stdout.splitlines())
    for secret in ("hub-secret-key", "private-key", "db-password", "eu-token"):
        assert secret not in result.stdout
    assert lines["MERCURE_JWT_KEY"] == "********"
    assert lines["DATABASE_URL"] == "postgresql+psycopg://gateway:********@db/gateway"
    assert lines["MERCURE_HUBS_EU_WEST_JWT_TOKEN"] == "********"
    assert lines["MERCURE_HUBS_EU_WEST_PUBLISH_URL"] == "http://eu/.well-known/mercure"
    assert lines["MERCURE_HEARTBEAT"] == "90s"
    assert lines["MERCURE_HISTORY_BYTES"] == "64MiB (default)"
    listed = {entry.name for entry in VARIABLES if entry.pattern is None}
    assert listed <= set(lines)


def test_flask_settings_names_an_invalid_value_and_fails() -> None:
    result = _flask_settings(MERCURE_HISTORY_SIZE="many")
    assert result.returncode == 1
    assert re.search(
        r"^MERCURE_HISTORY_SIZE +many \(invalid: MERCURE_HISTORY_SIZE='many' is not an "
        r"integer\)$",
        result.stdout,
        re.M,
    )


def test_the_resource_identifier_default_names_the_development_fallback() -> None:
    """Without PUBLIC_URL the hub's resource identifier is a fixed URL on port 8000, also
    under `make run PORT=...`: the settings page says so, as the Mercure 1.0 page does."""
    from app.hub.settings import DEFAULT_RESOURCE

    (resource,) = (v for v in VARIABLES if v.name == "MERCURE_RESOURCE_IDENTIFIER")
    assert DEFAULT_RESOURCE in resource.default_text()


def test_the_issuer_default_is_the_resource_identifier_as_the_hub_applies_it() -> None:
    """Unset, MERCURE_ISSUER is the resource identifier (1.0 tokens without that `iss` are
    refused); the table says so instead of "no issuer"."""
    from app.hub.settings import HubSettings

    settings = HubSettings.from_env({}, public_url="https://shop.example")
    assert settings.local_issuer == "https://shop.example/.well-known/mercure"
    (issuer,) = (v for v in VARIABLES if v.name == "MERCURE_ISSUER")
    assert "MERCURE_RESOURCE_IDENTIFIER" in issuer.default_text()
