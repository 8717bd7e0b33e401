"""Hub settings from the environment: names, defaults, parsing, production safety."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from app.hub.settings import DEVELOPMENT_JWT_KEY, HubSettings, HubSettingsError, parse_duration

KEY = "k" * 64


def test_defaults_in_development_use_the_development_key(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        settings = HubSettings.from_env({})
    assert settings.publisher_key == settings.subscriber_key == DEVELOPMENT_JWT_KEY
    assert settings.development_key
    assert settings.publisher_algorithm == settings.subscriber_algorithm == "HS256"
    assert settings.anonymous
    assert settings.cors_origins == settings.publish_origins == ()
    assert (settings.heartbeat, settings.write_timeout, settings.dispatch_timeout) == (
        40.0,
        600.0,
        5.0,
    )
    assert settings.history_size == 1000
    assert settings.queue_size == 1000
    assert not settings.subscriptions
    assert settings.cookie_name == "mercureAuthorization"
    assert settings.ui
    assert settings.effective_transport_url == "memory://?history_size=1000"
    assert "development only" in caplog.text
    assert DEVELOPMENT_JWT_KEY in caplog.text


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({}, "MERCURE_PUBLISHER_JWT_KEY"),
        ({"MERCURE_PUBLISHER_JWT_KEY": KEY}, "MERCURE_SUBSCRIBER_JWT_KEY"),
        ({"MERCURE_SUBSCRIBER_JWT_KEY": KEY}, "MERCURE_PUBLISHER_JWT_KEY"),
    ],
)
def test_production_refuses_to_start_without_keys(environ: dict[str, str], message: str) -> None:
    with pytest.raises(HubSettingsError, match=message):
        HubSettings.from_env(environ, production=True)


def test_production_with_a_shared_key(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        settings = HubSettings.from_env({"MERCURE_JWT_KEY": KEY}, production=True)
    assert settings.publisher_key == settings.subscriber_key == KEY
    assert not settings.development_key
    assert not settings.ui
    assert caplog.text == ""


def test_role_keys_and_algorithms_override_the_shared_ones() -> None:
    settings = HubSettings.from_env(
        {
            "MERCURE_JWT_KEY": KEY,
            "MERCURE_JWT_ALG": "HS512",
            "MERCURE_PUBLISHER_JWT_KEY": "p" * 64,
            "MERCURE_SUBSCRIBER_JWT_ALG": "hs384",
        }
    )
    assert settings.publisher_key == "p" * 64
    assert settings.subscriber_key == KEY
    assert settings.publisher_algorithm == "HS512"
    assert settings.subscriber_algorithm == "HS384"


def test_pem_keys_accept_escaped_newlines() -> None:
    raw = "-----BEGIN PUBLIC KEY-----\\nabc\\n-----END PUBLIC KEY-----"
    settings = HubSettings.from_env({"MERCURE_JWT_KEY": raw, "MERCURE_JWT_ALG": "RS256"})
    assert settings.publisher_key == "-----BEGIN PUBLIC KEY-----\nabc\n-----END PUBLIC KEY-----"


def test_jwks_file_replaces_the_key_in_production(tmp_path: Path) -> None:
    jwks = tmp_path / "jwks.json"
    jwks.write_text('{"keys": []}')
    settings = HubSettings.from_env(
        {"MERCURE_JWKS_FILE": str(jwks), "MERCURE_JWT_ALG": "RS256"}, production=True
    )
    assert settings.publisher_jwks_file == settings.subscriber_jwks_file == jwks


@pytest.mark.parametrize(
    ("variable", "raw", "field", "value"),
    [
        ("MERCURE_ANONYMOUS", "0", "anonymous", False),
        ("MERCURE_ANONYMOUS", "off", "anonymous", False),
        ("MERCURE_ANONYMOUS", "TRUE", "anonymous", True),
        (
            "MERCURE_CORS_ORIGINS",
            "https://a.example https://b.example",
            "cors_origins",
            ("https://a.example", "https://b.example"),
        ),
        (
            "MERCURE_CORS_ORIGINS",
            "https://a.example,https://b.example",
            "cors_origins",
            ("https://a.example", "https://b.example"),
        ),
        ("MERCURE_PUBLISH_ORIGINS", "*", "publish_origins", ("*",)),
        ("MERCURE_HEARTBEAT", "15s", "heartbeat", 15.0),
        ("MERCURE_HEARTBEAT", "0", "heartbeat", 0.0),
        ("MERCURE_WRITE_TIMEOUT", "10m", "write_timeout", 600.0),
        ("MERCURE_WRITE_TIMEOUT", "1h30m", "write_timeout", 5400.0),
        ("MERCURE_DISPATCH_TIMEOUT", "500ms", "dispatch_timeout", 0.5),
        ("MERCURE_HISTORY_SIZE", "0", "history_size", 0),
        ("MERCURE_SUBSCRIBER_QUEUE_SIZE", "10", "queue_size", 10),
        ("MERCURE_SUBSCRIPTIONS", "1", "subscriptions", True),
        ("MERCURE_COOKIE_NAME", "hubToken", "cookie_name", "hubToken"),
        ("MERCURE_UI", "0", "ui", False),
        ("MERCURE_TRANSPORT_URL", "redis://localhost/0", "transport_url", "redis://localhost/0"),
    ],
)
def test_variables(variable: str, raw: str, field: str, value: Any) -> None:
    settings = HubSettings.from_env({"MERCURE_JWT_KEY": KEY, variable: raw})
    assert getattr(settings, field) == value


def test_history_size_shapes_the_default_transport_url() -> None:
    settings = HubSettings.from_env({"MERCURE_JWT_KEY": KEY, "MERCURE_HISTORY_SIZE": "7"})
    assert settings.effective_transport_url == "memory://?history_size=7"


@pytest.mark.parametrize(
    ("variable", "raw", "message"),
    [
        ("MERCURE_ANONYMOUS", "maybe", "MERCURE_ANONYMOUS='maybe' is not a boolean"),
        ("MERCURE_HEARTBEAT", "soon", "MERCURE_HEARTBEAT='soon' is not a duration"),
        ("MERCURE_WRITE_TIMEOUT", "-1", "must not be negative"),
        ("MERCURE_HISTORY_SIZE", "many", "MERCURE_HISTORY_SIZE='many' is not an integer"),
        ("MERCURE_HISTORY_SIZE", "-1", "must be at least 0"),
        ("MERCURE_SUBSCRIBER_QUEUE_SIZE", "0", "must be at least 1"),
        ("MERCURE_PUBLISHER_JWT_ALG", "none", "not a supported JWT algorithm"),
        ("MERCURE_JWKS_FILE", "/nonexistent/jwks.json", "is not a readable file"),
    ],
)
def test_invalid_values_name_the_variable(variable: str, raw: str, message: str) -> None:
    with pytest.raises(HubSettingsError, match=message):
        HubSettings.from_env({"MERCURE_JWT_KEY": KEY, variable: raw})


def test_an_algorithm_without_its_key_is_an_error() -> None:
    with pytest.raises(HubSettingsError, match="without its key"):
        HubSettings.from_env({"MERCURE_JWT_ALG": "RS256"})


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [("40s", 40.0), ("1.5", 1.5), ("2m", 120.0), ("1h", 3600.0), ("1m30s", 90.0), ("250ms", 0.25)],
)
def test_parse_duration(raw: str, seconds: float) -> None:
    assert parse_duration("X", raw) == seconds


@pytest.mark.parametrize("raw", ["", "s", "10x", "1m 2s", "ten"])
def test_parse_duration_rejects(raw: str) -> None:
    with pytest.raises(HubSettingsError, match="X="):
        parse_duration("X", raw)
