"""External hubs and retry settings from the environment."""

from __future__ import annotations

import pytest

from app.publish.settings import ExternalHub, PublishSettings, PublishSettingsError, env_name


def test_nothing_set_means_the_built_in_hub() -> None:
    settings = PublishSettings.from_env({})
    assert settings.hubs == {}
    assert settings.retry_max_delay == 60.0


def test_default_external_hub_and_named_hubs() -> None:
    settings = PublishSettings.from_env(
        {
            "MERCURE_PUBLISH_URL": "http://hub.internal/.well-known/mercure",
            "MERCURE_SUBSCRIBE_URL": "https://hub.example/.well-known/mercure",
            "MERCURE_JWT_TOKEN": "t1",
            "MERCURE_HUBS_EU_WEST_PUBLISH_URL": "http://eu/.well-known/mercure",
            "MERCURE_HUBS_EU_WEST_JWT_TOKEN": "t2",
            "MERCURE_PUBLISH_RETRY_MAX_DELAY": "0.25",
        },
        hub_names=["eu-west"],
    )
    assert settings.hubs == {
        "default": ExternalHub(
            "default",
            "http://hub.internal/.well-known/mercure",
            "https://hub.example/.well-known/mercure",
            "t1",
        ),
        "eu-west": ExternalHub(
            "eu-west", "http://eu/.well-known/mercure", "http://eu/.well-known/mercure", "t2"
        ),
    }
    assert settings.retry_max_delay == 0.25


@pytest.mark.parametrize(
    ("env", "names", "message"),
    [
        ({"MERCURE_PUBLISH_URL": "http://h"}, [], "MERCURE_JWT_TOKEN is empty"),
        ({}, ["backup"], "MERCURE_HUBS_BACKUP_PUBLISH_URL is not set"),
        ({"MERCURE_PUBLISH_TIMEOUT": "soon"}, [], "MERCURE_PUBLISH_TIMEOUT='soon' is not a"),
        ({"MERCURE_PUBLISH_RETRY_MIN_DELAY": "0"}, [], "must be greater than 0"),
    ],
)
def test_errors_name_the_variable(env: dict[str, str], names: list[str], message: str) -> None:
    with pytest.raises(PublishSettingsError, match=message):
        PublishSettings.from_env(env, names)


@pytest.mark.parametrize(("name", "expected"), [("eu-west", "EU_WEST"), ("b2", "B2")])
def test_env_name(name: str, expected: str) -> None:
    assert env_name(name) == expected
