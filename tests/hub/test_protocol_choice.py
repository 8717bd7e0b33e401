"""Which protocol a hub speaks (``MERCURE_PROTOCOLS``) and how 1.0 issuers are configured."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask

from app.environment import MASK, effective
from app.hub import Hub
from app.hub.namespace import reserved
from app.hub.oauth import StaticKey, issuer_keys
from app.hub.settings import HubSettings, HubSettingsError, IssuerSettings
from app.hub.subscriber import SubscriberInfo
from tests.auth.conftest import KeyPair, KeySet, rsa_pair
from tests.hub.conftest import token
from tests.hub.v1 import LOCAL_ISSUER, access_token, detail, exact
from tests.services import LiveServer

RESOURCE = "https://hub.example/.well-known/mercure"
HubApp = Callable[..., tuple[Flask, Hub]]


def test_a_hub_speaking_only_1_0_refuses_0_x_clients(hub_app: HubApp) -> None:
    app, _ = hub_app(protocols=("1.0",), resource=RESOURCE, issuer=LOCAL_ISSUER)
    client = app.test_client()
    legacy = client.get("/.well-known/mercure?topic=https://example.com/a")
    assert legacy.status_code == 400
    publisher_0x = token(publish=("*",))
    refused = client.post(
        "/.well-known/mercure",
        data={"topic": "https://example.com/a"},
        headers={"Authorization": f"Bearer {publisher_0x}"},
    )
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
    publisher = access_token(RESOURCE, publish=exact("*"))
    accepted = client.post(
        "/.well-known/mercure",
        data={"topic": "https://example.com/a"},
        headers={"Authorization": f"Bearer {publisher}"},
    )
    assert accepted.status_code == 200


def test_a_hub_speaking_only_0_x_has_no_1_0_face(hub_app: HubApp) -> None:
    app, _ = hub_app(protocols=("0.x",))
    client = app.test_client()
    assert client.get("/.well-known/mercure?match=a").status_code == 400
    assert (
        client.get("/.well-known/oauth-protected-resource/.well-known/mercure").status_code == 404
    )


def test_refused_anonymous_subscribers_get_a_bare_challenge(hub_app: HubApp) -> None:
    app, _ = hub_app(anonymous=False, resource=RESOURCE)
    response = app.test_client().get("/.well-known/mercure?match=a")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == (
        'Bearer resource_metadata="https://hub.example/.well-known/oauth-protected-resource'
        '/.well-known/mercure"'
    )


def test_an_issuer_with_a_jwks_file_signs_for_itself_only(hub_app: HubApp, tmp_path: Path) -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private.public_key()))
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [{**jwk, "kid": "k1", "alg": "ES256"}]}))
    issuer = IssuerSettings("https://as.example", ("ES256",), jwks_file=jwks)
    app, _ = hub_app(resource=RESOURCE, issuer=LOCAL_ISSUER, issuers=(issuer,))
    claims = {
        "aud": RESOURCE,
        "exp": 4102444800,
        "sub": "s",
        "authorization_details": [detail(["subscribe"], [{"match": "*"}])],
    }
    headers = {"typ": "at+jwt", "kid": "k1"}
    good = jwt.encode({**claims, "iss": "https://as.example"}, private, "ES256", headers=headers)
    # The same key claiming the hub's own issuer is not trusted.
    forged = jwt.encode({**claims, "iss": LOCAL_ISSUER}, private, "ES256", headers=headers)
    client = app.test_client()
    ok = client.head("/.well-known/mercure?match=a", headers={"Authorization": f"Bearer {good}"})
    assert ok.status_code == 200
    bad = client.get("/.well-known/mercure?match=a", headers={"Authorization": f"Bearer {forged}"})
    assert bad.status_code == 401


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"MERCURE_PROTOCOLS": "2.0"}, "MERCURE_PROTOCOLS"),
        ({"MERCURE_RESOURCE_IDENTIFIER": "/relative"}, "MERCURE_RESOURCE_IDENTIFIER"),
        ({"MERCURE_ISSUERS": "not json"}, "MERCURE_ISSUERS"),
        ({"MERCURE_ISSUERS": '[{"issuer": "x"}]'}, "exactly one of"),
        ({"MERCURE_ISSUERS": '[{"issuer": "x", "key": "k", "algorithms": ["none"]}]'}, "alg"),
    ],
)
def test_unusable_1_0_settings_are_named(environ: dict[str, str], message: str) -> None:
    with pytest.raises(HubSettingsError, match=message):
        HubSettings.from_env(environ)


def test_an_issuer_key_must_serve_every_one_of_its_algorithms() -> None:
    rsa_key = rsa_pair("rsa-1")
    # An RSA public key listed for HS256 as well would answer an HS256 token with a
    # server error (the key cannot be an HMAC secret); the hub refuses it at start.
    with pytest.raises(ValueError, match="HS256"):
        StaticKey(rsa_key.public_pem, ["RS256", "HS256"])
    issuer = IssuerSettings(
        identifier="https://as.example", algorithms=("RS256", "HS256"), key=rsa_key.public_pem
    )
    with pytest.raises(ValueError, match="HS256"):
        issuer_keys(issuer)
    assert StaticKey(rsa_key.public_pem, ["RS256", "PS256"]).algorithms == ("RS256", "PS256")


def test_1_0_settings_defaults() -> None:
    settings = HubSettings.from_env({}, public_url="https://shop.example")
    assert settings.protocols == ("0.x", "1.0")
    assert settings.resource == "https://shop.example/.well-known/mercure"
    assert settings.local_issuer == settings.resource
    assert settings.access_token_cookie == "__Secure-mercure_access_token"
    named = HubSettings.from_env(
        {"MERCURE_PROTOCOLS": "1.0", "MERCURE_ACCESS_TOKEN_COOKIE": "mercure_access_token"}
    )
    assert named.protocols == ("1.0",)
    assert not named.legacy
    assert named.access_token_cookie == "mercure_access_token"


def test_a_1_0_token_grants_nothing_to_a_0_x_request(hub_app: HubApp) -> None:
    app, _ = hub_app(resource=RESOURCE, issuer=LOCAL_ISSUER)
    reader = access_token(RESOURCE, subscribe=exact("*"))
    response = app.test_client().get(
        "/.well-known/mercure?topic=https://example.com/a",
        headers={"Authorization": f"Bearer {reader}"},
    )
    assert response.status_code == 401


def test_1_0_subscriber_infos_cross_workers_whole() -> None:
    info = SubscriberInfo(
        id="urn:uuid:1",
        topics=("https://example.com/:id", "https://example.com/a"),
        match_types=("urlpattern", "exact"),
        payloads=({"tenant": "t"}, None),
    )
    assert SubscriberInfo.from_dict(json.loads(json.dumps(info.to_dict()))) == info
    legacy = SubscriberInfo(id="urn:uuid:2", topics=("a",), payload={"x": 1})
    assert SubscriberInfo.from_dict(json.loads(json.dumps(legacy.to_dict()))) == legacy


def test_0_x_publishers_cannot_forge_what_1_0_subscribers_trust(hub_app: HubApp) -> None:
    app, _ = hub_app(resource=RESOURCE)
    publisher = {"Authorization": f"Bearer {token(publish=('*',))}"}
    client = app.test_client()
    forged_type = client.post(
        "/.well-known/mercure", data={"topic": "a", "type": "mercure"}, headers=publisher
    )
    assert forged_type.status_code == 400
    encoded = client.post(
        "/.well-known/mercure",
        data={"topic": "/.well-known/%6Dercure/subscriptions/x"},
        headers=publisher,
    )
    assert encoded.status_code == 403
    app_0x, _ = hub_app(protocols=("0.x",))
    allowed = app_0x.test_client().post(
        "/.well-known/mercure", data={"topic": "a", "type": "mercure"}, headers=publisher
    )
    assert allowed.status_code == 200


@pytest.mark.parametrize(
    "topic",
    [
        # A backslash ends the authority of a special URL (the URL Standard, which URL
        # patterns follow), so these address the hub's namespace on some host.
        "https://hub.example\\.well-known/mercure/subscriptions/exact/x/y",
        "https:\\\\elsewhere.example\\.well-known\\mercure\\x",
        "\\\\elsewhere.example\\.well-known/mercure/x",
        "https:/.well-known/mercure/x",
    ],
)
def test_the_namespace_is_read_as_url_patterns_read_topics(topic: str) -> None:
    assert reserved(topic, RESOURCE, itself=False)


def test_0_x_publishers_cannot_forge_subscription_events_with_a_backslash(
    hub_app: HubApp,
) -> None:
    app, _ = hub_app(resource=RESOURCE)
    publisher = {"Authorization": f"Bearer {token(publish=('*',))}"}
    response = app.test_client().post(
        "/.well-known/mercure",
        data={"topic": "https://hub.example\\.well-known/mercure/subscriptions/exact/x/y"},
        headers=publisher,
    )
    assert response.status_code == 403


def test_an_issuer_with_a_jwks_url_is_fetched_sparingly(
    hub_app: HubApp, serve: Callable[..., LiveServer]
) -> None:
    keys = KeySet()
    keys.url = f"{serve(keys).url}/.well-known/jwks.json"
    first, second = rsa_pair("rsa-1"), rsa_pair("rsa-2")
    keys.publish([first])
    issuer = IssuerSettings("https://as.example", ("RS256",), jwks_url=keys.url)
    app, _ = hub_app(resource=RESOURCE, issuers=(issuer,))
    claims = {
        "iss": "https://as.example",
        "aud": [RESOURCE, "https://other.example"],
        "exp": 4102444800,
        "sub": "s",
        "authorization_details": [detail(["subscribe"], [{"match": "*"}])],
    }
    client = app.test_client()

    def status(key: KeyPair) -> int:
        signed = key.sign(claims, typ="at+jwt")
        answer = client.head(
            "/.well-known/mercure?match=a", headers={"Authorization": f"Bearer {signed}"}
        )
        return answer.status_code

    assert status(first) == 200
    assert keys.fetches == 1
    # An unknown kid: at most one fetch again within the cool-down, however many tokens
    # name it (forged kids cannot make the hub hammer the issuer).
    for _ in range(5):
        assert status(second) == 401
    assert keys.fetches <= 2
    assert status(first) == 200


def test_a_1_0_cookie_publishes_only_from_a_publish_origin(hub_app: HubApp) -> None:
    app, _ = hub_app(
        resource=RESOURCE, issuer=LOCAL_ISSUER, publish_origins=("https://shop.example",)
    )
    client = app.test_client()
    client.set_cookie("__Secure-mercure_access_token", access_token(RESOURCE, publish=exact("*")))
    refused = client.post("/.well-known/mercure", data={"topic": "a"})
    assert refused.status_code == 403
    foreign = client.post(
        "/.well-known/mercure", data={"topic": "a"}, headers={"Origin": "https://evil.example"}
    )
    assert foreign.status_code == 403
    allowed = client.post(
        "/.well-known/mercure", data={"topic": "a"}, headers={"Origin": "https://shop.example"}
    )
    assert allowed.status_code == 200


def test_flask_settings_masks_the_issuers_keys() -> None:
    issuers = json.dumps([{"issuer": "https://as.example", "key": "an-hmac-secret-of-32-bytes!!"}])
    shown = {name: value for _, name, value in effective({"MERCURE_ISSUERS": issuers})}
    assert shown["MERCURE_ISSUERS"] == MASK
