"""Limits on URI template selectors: settings, 400s on subscribe, claims past the limits."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from app.hub import Hub
from app.hub.settings import HubSettings, HubSettingsError
from app.hub.topics import DEFAULT_LIMITS, TemplateLimits
from tests.hub.conftest import PUBLISHER, token
from tests.hub.sse_client import Subscription, publish

LiveHub = Callable[..., tuple[str, Hub]]
E = "https://example.com"
KEY = "k" * 64


def _settings(**environ: str) -> HubSettings:
    return HubSettings.from_env({"MERCURE_JWT_KEY": KEY, **environ})


def test_defaults() -> None:
    limits = _settings().template_limits
    assert limits == DEFAULT_LIMITS == TemplateLimits(1024, 32, 16)


def test_variables() -> None:
    limits = _settings(
        MERCURE_TOPIC_TEMPLATE_MAX_LENGTH="200",
        MERCURE_TOPIC_TEMPLATE_MAX_VARIABLES="4",
        MERCURE_TOPIC_TEMPLATES_PER_SUBSCRIPTION="0",
    ).template_limits
    assert limits == TemplateLimits(max_length=200, max_variables=4, max_templates=0)


@pytest.mark.parametrize(
    ("variable", "raw", "message"),
    [
        ("MERCURE_TOPIC_TEMPLATE_MAX_LENGTH", "8193", "must be at most 8192"),
        ("MERCURE_TOPIC_TEMPLATE_MAX_LENGTH", "0", "must be at least 1"),
        ("MERCURE_TOPIC_TEMPLATE_MAX_VARIABLES", "257", "must be at most 256"),
        ("MERCURE_TOPIC_TEMPLATE_MAX_VARIABLES", "many", "is not an integer"),
        ("MERCURE_TOPIC_TEMPLATES_PER_SUBSCRIPTION", "-1", "must be at least 0"),
    ],
)
def test_invalid_values_name_the_variable(variable: str, raw: str, message: str) -> None:
    with pytest.raises(HubSettingsError, match=f"{variable}=.*{message}"):
        _settings(**{variable: raw})


def _subscribe_status(client: httpx.Client, url: str, topics: list[str]) -> tuple[int, str]:
    response = client.get(url, params=[("topic", topic) for topic in topics])
    return response.status_code, response.text


@pytest.mark.parametrize(
    ("topics", "message"),
    [
        (
            [f"{E}/books/{{id}}/" + "x" * 200],
            '"topic" URI template longer than 100 characters '
            "(MERCURE_TOPIC_TEMPLATE_MAX_LENGTH).\n",
        ),
        (
            [f"{E}/{{a,b,c}}"],
            '"topic" URI template with more than 2 variables '
            "(MERCURE_TOPIC_TEMPLATE_MAX_VARIABLES).\n",
        ),
        (
            [f"{E}/books/{{id}}", f"{E}/authors/{{id}}", f"{E}/reviews/{{id}}"],
            'More than 2 URI templates in "topic" parameters '
            "(MERCURE_TOPIC_TEMPLATES_PER_SUBSCRIPTION).\n",
        ),
    ],
)
def test_subscriptions_past_the_limits_are_400s_naming_the_setting(
    live_hub: LiveHub, client: httpx.Client, topics: list[str], message: str
) -> None:
    url, hub = live_hub(template_limits=TemplateLimits(100, 2, 2))
    assert _subscribe_status(client, url, topics) == (400, message)
    assert len(hub.transport.subscribers()[1]) == 0


def test_the_check_comes_after_authorization(live_hub: LiveHub, client: httpx.Client) -> None:
    url, _hub = live_hub(template_limits=TemplateLimits(100, 2, 2), anonymous=False)
    status, _ = _subscribe_status(client, url, [f"{E}/{{a,b,c}}"])
    assert status == 401


def test_selectors_within_the_limits_and_exact_topics_are_taken(
    live_hub: LiveHub, client: httpx.Client
) -> None:
    url, _hub = live_hub(template_limits=TemplateLimits(100, 2, 2))
    long_exact = f"{E}/books/" + "x" * 300
    not_a_template = f"{E}/books/{{" + "x" * 300
    topics = [f"{E}/books/{{id}}", f"{E}/{{a,b}}", long_exact, not_a_template, "*"]
    with Subscription(client, url, topics) as sub:
        assert sub.response.status_code == 200
        publish(client, url, PUBLISHER, topic=not_a_template, id="brace")
        assert sub.next_event().id == "brace"


def test_publish_claims_past_the_limits_match_only_themselves(
    live_hub: LiveHub, client: httpx.Client
) -> None:
    url, _hub = live_hub(template_limits=TemplateLimits(100, 2, 2))
    many = f"{E}/{{a}}/{{b}}/{{c}}"
    publisher = token(publish=(many,))
    assert publish(client, url, publisher, topic=f"{E}/1/2/3").status_code == 401
    assert publish(client, url, publisher, topic=many).status_code == 200
    within = token(publish=(f"{E}/{{a}}/{{b}}",))
    assert publish(client, url, within, topic=f"{E}/1/2").status_code == 200


def test_subscribe_claims_past_the_limits_match_only_themselves(
    live_hub: LiveHub, client: httpx.Client
) -> None:
    url, _hub = live_hub(template_limits=TemplateLimits(100, 2, 2))
    many = f"{E}/{{a}}/{{b}}/{{c}}"
    past = {"Authorization": f"Bearer {token(subscribe=(many,))}"}
    within = {"Authorization": f"Bearer {token(subscribe=(f'{E}/{{a}}/{{b}}/3',))}"}
    with (
        Subscription(client, url, ["*"], headers=past) as refused,
        Subscription(client, url, ["*"], headers=within) as allowed,
    ):
        publish(client, url, PUBLISHER, topic=f"{E}/1/2/3", private="on", id="secret")
        publish(client, url, PUBLISHER, topic=many, private="on", id="itself")
        assert [event.id for event in allowed.events(1)] == ["secret"]
        assert refused.next_event().id == "itself"
