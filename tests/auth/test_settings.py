"""AuthSettings.from_env: defaults, the development key, production, and every refusal
naming the variable at fault."""

from __future__ import annotations

import logging

import pytest

from app.auth.settings import (
    DEVELOPMENT_AUTH_KEY,
    JWKS_ALGORITHMS,
    AuthSettings,
    AuthSettingsError,
)

KEY = "a-user-token-key-of-at-least-32-bytes!!"
JWKS = "https://idp.example/.well-known/jwks.json"
PEM = "-----BEGIN PUBLIC KEY-----\\nMFkw\\n-----END PUBLIC KEY-----"
PRIVATE_PEM = "-----BEGIN PRIVATE KEY-----\\nAA\\n-----END PRIVATE KEY-----"


def test_development_defaults_use_the_public_key_and_warn(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="app.auth.settings"):
        settings = AuthSettings.from_env({})
    assert settings == AuthSettings(key=DEVELOPMENT_AUTH_KEY, development_key=True)
    assert settings.configured
    assert (settings.algorithms, settings.leeway, settings.jwks_lifespan) == (("HS256",), 30, 300)
    assert (settings.roles_claim, settings.mercure_token_lifetime) == ("roles", 3600)
    assert (settings.issuer, settings.audience, settings.jwks_url) == (None, None, None)
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert DEVELOPMENT_AUTH_KEY in record.getMessage()
    assert "AUTH_JWT_KEY or AUTH_JWKS_URL" in record.getMessage()


def test_production_without_key_authenticates_nobody(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="app.auth.settings"):
        settings = AuthSettings.from_env({}, production=True)
    assert settings.key is None
    assert not settings.configured
    assert not settings.development_key
    assert caplog.records == []


@pytest.mark.parametrize("production", [False, True])
def test_configured_key_is_used_without_warning(
    production: bool, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="app.auth.settings"):
        settings = AuthSettings.from_env({"AUTH_JWT_KEY": f"  {KEY} "}, production=production)
    assert (settings.key, settings.development_key, settings.configured) == (KEY, False, True)
    assert caplog.records == []


def test_every_variable_is_read() -> None:
    settings = AuthSettings.from_env(
        {
            "AUTH_JWT_KEY": PEM,
            "AUTH_JWT_ALG": "rs256, PS256,",
            "AUTH_ISSUER": " https://idp.example/ ",
            "AUTH_AUDIENCE": "bookshop",
            "AUTH_LEEWAY": "1m",
            "AUTH_ROLES_CLAIM": "realm_access.roles",
            "AUTH_MERCURE_TOKEN_LIFETIME": "15m",
            "AUTH_MERCURE_PRIVATE_KEY": PRIVATE_PEM,
        },
        production=True,
    )
    assert settings.key == "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----"
    assert settings.algorithms == ("RS256", "PS256")
    assert (settings.issuer, settings.audience) == ("https://idp.example/", "bookshop")
    assert (settings.leeway, settings.mercure_token_lifetime) == (60, 900)
    assert settings.roles_claim == "realm_access.roles"
    assert (
        settings.mercure_private_key == "-----BEGIN PRIVATE KEY-----\nAA\n-----END PRIVATE KEY-----"
    )


def test_key_set_defaults_to_asymmetric_algorithms() -> None:
    settings = AuthSettings.from_env({"AUTH_JWKS_URL": JWKS, "AUTH_JWKS_LIFESPAN": "10m"})
    assert (settings.jwks_url, settings.key, settings.jwks_lifespan) == (JWKS, None, 600)
    assert settings.algorithms == JWKS_ALGORITHMS
    assert settings.algorithms
    assert not any(algorithm.startswith("HS") for algorithm in settings.algorithms)
    assert settings.configured
    assert not settings.development_key


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"AUTH_JWKS_URL": JWKS, "AUTH_JWT_ALG": "RS256,HS256"},
            "AUTH_JWT_ALG lists an HMAC algorithm with AUTH_JWKS_URL",
        ),
        (
            {"AUTH_JWKS_URL": JWKS, "AUTH_JWT_KEY": KEY},
            "set AUTH_JWT_KEY or AUTH_JWKS_URL, not both",
        ),
        ({"AUTH_JWT_ALG": "RS256"}, "AUTH_JWT_ALG is set without AUTH_JWT_KEY; set the key"),
        (
            {"AUTH_JWT_KEY": KEY, "AUTH_JWT_ALG": "HS256,XS999"},
            "AUTH_JWT_ALG: 'XS999' is not a supported JWT algorithm; use one of HS256",
        ),
        ({"AUTH_JWT_KEY": KEY, "AUTH_JWT_ALG": "none"}, "AUTH_JWT_ALG: 'none' is not a supported"),
        (
            {"AUTH_JWT_KEY": PEM, "AUTH_JWT_ALG": "RS256,HS256"},
            "AUTH_JWT_ALG lists RS256, HS256, but one AUTH_JWT_KEY serves one kind of algorithm",
        ),
        ({"AUTH_JWT_KEY": PEM, "AUTH_JWT_ALG": "ES256,RS256"}, "one AUTH_JWT_KEY serves one"),
        ({"AUTH_JWT_KEY": PEM, "AUTH_JWT_ALG": "EdDSA,ES256"}, "one AUTH_JWT_KEY serves one"),
        (
            {"AUTH_JWKS_URL": "idp.example/jwks.json"},
            "AUTH_JWKS_URL='idp.example/jwks.json' is not an http(s) URL",
        ),
        ({"AUTH_JWKS_URL": "file:///etc/jwks.json"}, "is not an http(s) URL"),
        ({"AUTH_LEEWAY": "soon"}, "AUTH_LEEWAY='soon' is not a duration; use e.g. 40s"),
        ({"AUTH_LEEWAY": "-5"}, "AUTH_LEEWAY='-5' must not be negative"),
        (
            {"AUTH_JWKS_URL": JWKS, "AUTH_AUDIENCE": "shop", "AUTH_JWKS_LIFESPAN": "5 minutes"},
            "AUTH_JWKS_LIFESPAN=",
        ),
        ({"AUTH_JWKS_URL": JWKS}, "AUTH_JWKS_URL is set without AUTH_AUDIENCE"),
        (
            {"AUTH_JWT_KEY": "!ChangeThisGatewayUserJWTSecretKey!"},
            "AUTH_JWT_KEY is a publicly known development key",
        ),
        (
            {"AUTH_JWT_KEY": "!ChangeThisMercureHubJWTSecretKey!"},
            "AUTH_JWT_KEY is a publicly known development key",
        ),
        ({"AUTH_JWT_KEY": "k"}, "AUTH_JWT_KEY has 1 bytes; HS256 needs at least 32"),
        ({"AUTH_MERCURE_TOKEN_LIFETIME": "1d"}, "AUTH_MERCURE_TOKEN_LIFETIME='1d' is not a"),
    ],
)
def test_refusals_name_the_variable(environ: dict[str, str], message: str) -> None:
    with pytest.raises(AuthSettingsError) as caught:
        AuthSettings.from_env(environ, production=True)
    assert message in str(caught.value)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("production", [False, True])
def test_algorithm_without_key_is_refused_in_every_mode(production: bool) -> None:
    with pytest.raises(AuthSettingsError, match="AUTH_JWT_ALG is set without AUTH_JWT_KEY"):
        AuthSettings.from_env({"AUTH_JWT_ALG": "HS512"}, production=production)
