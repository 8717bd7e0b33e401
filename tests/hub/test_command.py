"""``flask hub token``: tokens minted with the configured keys."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask

from app.hub import init_app
from app.hub.command import hub_command
from app.hub.settings import HubSettings
from tests.hub.conftest import TEST_KEY, TEST_SETTINGS


def _app(settings: HubSettings = TEST_SETTINGS) -> Flask:
    app = Flask("t")
    init_app(app, settings)
    app.cli.add_command(hub_command)
    return app


def test_mints_a_token_for_both_roles() -> None:
    result = (
        _app()
        .test_cli_runner()
        .invoke(
            args=[
                "hub",
                "token",
                "--publish",
                "*",
                "--subscribe",
                "https://e.com/{id}",
                "--exp",
                "1h",
            ]
        )
    )
    assert result.exit_code == 0, result.output
    claims = jwt.decode(result.output.strip(), TEST_KEY, algorithms=["HS256"])
    assert claims["mercure"] == {"publish": ["*"], "subscribe": ["https://e.com/{id}"]}
    assert "exp" in claims


def test_payload_and_no_expiry() -> None:
    result = (
        _app()
        .test_cli_runner()
        .invoke(args=["hub", "token", "--subscribe", "*", "--payload", '{"user": 1}'])
    )
    claims = jwt.decode(result.output.strip(), TEST_KEY, algorithms=["HS256"])
    assert claims == {"mercure": {"subscribe": ["*"], "payload": {"user": 1}}}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "at least one --publish or --subscribe"),
        (["--subscribe", "*", "--payload", "{"], "Invalid value"),
        (["--subscribe", "*", "--exp", "soon"], "is not a duration"),
    ],
)
def test_usage_errors(args: list[str], message: str) -> None:
    result = _app().test_cli_runner().invoke(args=["hub", "token", *args])
    assert result.exit_code != 0
    assert message in result.output


def test_different_role_keys_need_separate_tokens() -> None:
    app = _app(replace(TEST_SETTINGS, subscriber_key="s" * 64))
    both = app.test_cli_runner().invoke(args=["hub", "token", "--publish", "*", "--subscribe", "*"])
    assert both.exit_code != 0
    assert "keys differ" in both.output
    subscriber = app.test_cli_runner().invoke(args=["hub", "token", "--subscribe", "*"])
    assert jwt.decode(subscriber.output.strip(), "s" * 64, algorithms=["HS256"])


def test_asymmetric_algorithms_need_the_private_key(tmp_path: Path) -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    private_file = tmp_path / "key.pem"
    private_file.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    settings = replace(
        TEST_SETTINGS,
        publisher_key=public_pem.decode(),
        publisher_algorithm="ES256",
        subscriber_key=public_pem.decode(),
        subscriber_algorithm="ES256",
    )
    runner = _app(settings).test_cli_runner()
    refused = runner.invoke(args=["hub", "token", "--publish", "*"])
    assert "--private-key" in refused.output
    minted = runner.invoke(
        args=["hub", "token", "--publish", "*", "--private-key", str(private_file)]
    )
    assert minted.exit_code == 0, minted.output
    claims = jwt.decode(minted.output.strip(), public_pem, algorithms=["ES256"])
    assert claims["mercure"]["publish"] == ["*"]
