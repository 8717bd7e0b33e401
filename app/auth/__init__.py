"""Who the REST client is: bearer JWTs, and subscriber tokens that follow the same rules.

:func:`init_app` verifies users' tokens (:mod:`app.auth.authenticator`, configured by
:mod:`app.auth.settings`), serves ``GET /auth/mercure`` (:mod:`app.auth.mercure`) and adds
``flask auth token``. The returned :class:`Auth` gives the REST views the request's user.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from flask import Flask, request

from app.access.user import User
from app.auth.authenticator import Authenticator
from app.auth.command import auth_command
from app.auth.mercure import SubscriberTokens, blueprint
from app.auth.settings import AuthSettings, AuthSettingsError
from app.config.spec import ResourcesSpec
from app.headers import add_header_edit, vary
from app.hub.settings import HubSettings

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

__all__ = ["EXTENSION_KEY", "Auth", "AuthSettings", "AuthSettingsError", "init_app"]

EXTENSION_KEY = "gateway_auth"
_USER = "gateway.user"
"""Where the request's verified user is kept in the WSGI environ (``None``: anonymous)."""
_ASKED = "gateway.user_asked"
"""Set in the WSGI environ once the user was asked for: the answer, a 401 included, then
depends on ``Authorization``."""


class Auth:
    """The authenticator of one app and the current request's user."""

    def __init__(self, authenticator: Authenticator) -> None:
        self.authenticator = authenticator
        self.settings = authenticator.settings

    def current_user(self) -> User | None:
        """The request's user, verified once per request; ``None`` when anonymous.
        Raises 401 for a header or token that cannot be trusted."""
        environ = request.environ
        if _USER not in environ:
            environ[_ASKED] = True
            environ[_USER] = self.authenticator.authenticate(request.headers.get("Authorization"))
        user: User | None = environ[_USER]
        return user


def vary_authorization(environ: WSGIEnvironment, headers: list[tuple[str, str]]) -> None:
    """The header edit of an answer that depended on who asked (the user was asked for,
    whether the token was accepted or answered 401): ``Authorization`` joins its ``Vary``,
    so shared caches do not mix users."""
    if _ASKED in environ:
        vary(headers, "Authorization")


def init_app(
    app: Flask,
    spec: ResourcesSpec,
    settings: AuthSettings,
    hub_settings: HubSettings,
    origin: Callable[[], str],
    hub_path: str,
) -> Auth:
    """Authenticate REST requests as ``settings`` say and serve subscriber tokens signed
    with the hub's subscriber key (or ``AUTH_MERCURE_PRIVATE_KEY`` for asymmetric ones)."""
    auth = Auth(Authenticator(settings))
    add_header_edit(app, vary_authorization)

    algorithm = hub_settings.subscriber_algorithm
    key = (
        hub_settings.subscriber_key if algorithm.startswith("HS") else settings.mercure_private_key
    )
    if auth.authenticator.enabled and key:
        tokens = SubscriberTokens(
            spec,
            key,
            algorithm,
            settings.mercure_token_lifetime,
            issuer=hub_settings.local_issuer,
            resource=hub_settings.resource,
        )
        app.register_blueprint(
            blueprint(
                tokens,
                auth.current_user,
                origin,
                hub_settings.cookie_name,
                hub_path,
                hub_settings.access_token_cookie if hub_settings.v1 else "",
            )
        )
    app.cli.add_command(auth_command(settings))
    app.extensions[EXTENSION_KEY] = auth
    return auth
