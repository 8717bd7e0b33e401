"""``flask auth token``: what it mints with each kind of key, and what it refuses."""

from __future__ import annotations

from pathlib import Path

import jwt
import pytest
from click.testing import CliRunner

from app.auth.authenticator import Authenticator
from app.auth.command import auth_command
from app.auth.settings import AuthSettings
from tests.auth.conftest import KeyPair

KEY = "command-tests-user-key-of-at-least-32-bytes"


def run(settings: AuthSettings, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(auth_command(settings), ["token", *args])
    return result.exit_code, result.stdout, result.stderr


def test_issuer_audience_and_nested_roles_follow_the_settings() -> None:
    settings = AuthSettings(
        key=KEY, issuer="https://shop.example/", audience="api", roles_claim="realm.roles"
    )
    code, out, err = run(settings, "--sub", "alice", "--role", "a", "--role", "b", "--exp", "2h")
    assert (code, err) == (0, "")
    claims = jwt.decode(out.strip(), KEY, algorithms=["HS256"], audience="api")
    assert (claims["iss"], claims["realm"], claims["exp"] - claims["iat"]) == (
        "https://shop.example/",
        {"roles": ["a", "b"]},
        7200,
    )
    user = Authenticator(settings).verify(out.strip())
    assert (user.id, user.roles) == ("alice", ("a", "b"))


def test_an_asymmetric_key_signs_with_the_given_private_key(
    rsa_key: KeyPair, tmp_path: Path
) -> None:
    private = tmp_path / "private.pem"
    private.write_text(rsa_key.private_pem, encoding="utf-8")
    settings = AuthSettings(key=rsa_key.public_pem, algorithms=("RS256",))
    code, out, _ = run(settings, "--sub", "alice", "--private-key", str(private))
    assert code == 0
    assert Authenticator(settings).verify(out.strip()).id == "alice"


@pytest.mark.parametrize(
    ("settings", "args", "message"),
    [
        (
            AuthSettings(jwks_url="https://idp.example/jwks.json", algorithms=("RS256",)),
            ["--sub", "a"],
            "users' keys come from AUTH_JWKS_URL",
        ),
        (AuthSettings(), ["--sub", "a"], "no AUTH_JWT_KEY is configured"),
        (
            AuthSettings(key="-----BEGIN PUBLIC KEY-----", algorithms=("RS256",)),
            ["--sub", "a"],
            "RS256 tokens need the signing key: pass --private-key",
        ),
        (AuthSettings(key=KEY), ["--sub", "a", "--exp", "soon"], "--exp='soon' is not a duration"),
        (AuthSettings(key=KEY), [], "Missing option '--sub'"),
    ],
)
def test_refusals(settings: AuthSettings, args: list[str], message: str) -> None:
    code, out, err = run(settings, *args)
    assert code == 2
    assert out == ""
    assert message in err
