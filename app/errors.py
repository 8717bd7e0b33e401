"""One error hierarchy for the REST API, rendered as RFC 9457 ``application/problem+json``.

Every error the API answers goes through :func:`problem_response`, so every body has the
same shape: ``type``, ``title``, ``status``, ``detail`` and, for 422, ``violations`` (a list
of ``{propertyPath, message}``), the shape API Platform clients parse. Werkzeug's own HTTP
errors (routing 404/405 and the like) are converted to the same shape. The error answer of a
request whose representation was negotiated from its ``Accept`` header (which may have
been a 406 instead) carries ``Vary: Accept``, as its successful answers do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, has_request_context, json, request
from werkzeug.exceptions import HTTPException

from app.request_id import current as current_request_id

PROBLEM_JSON = "application/problem+json"
ACCEPT_NEGOTIATED = "mercure_gateway.accept_negotiated"
"""Key of a request's WSGI environ, set once its answer depends on its ``Accept`` header."""


@dataclass(frozen=True)
class Violation:
    """One invalid input: the dotted path of the property and a human message."""

    property_path: str
    message: str


class ApiError(Exception):
    """Base of every API error; each subclass sets its HTTP status and title."""

    status: int = 500
    title: str = "An error occurred"

    def __init__(self, detail: str, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        """The problem document for this error."""
        return {
            "@context": "/contexts/Error",
            "@type": "Error",
            "type": f"/errors/{self.status}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "description": self.detail,
        }


class BadRequest(ApiError):
    status = 400
    title = "Bad Request"


class Unauthorized(ApiError):
    """401: the operation needs an authenticated user and the request has none (or its
    token is unusable). Carries the RFC 6750 challenge ``WWW-Authenticate: Bearer
    realm="api"``, with ``error`` and ``error_description`` when a token was refused."""

    status = 401
    title = "Unauthorized"

    def __init__(self, detail: str, *, error: str | None = None, reason: str | None = None):
        challenge = 'Bearer realm="api"'
        if error:
            challenge += f', error="{error}"'
        if reason:
            challenge += ', error_description="{}"'.format(reason.replace('"', "'"))
        super().__init__(detail, headers={"WWW-Authenticate": challenge})


class Forbidden(ApiError):
    """403: the authenticated user may not perform the operation."""

    status = 403
    title = "Forbidden"


class NotFound(ApiError):
    status = 404
    title = "Not Found"


class NotAcceptable(ApiError):
    status = 406
    title = "Not Acceptable"


class Conflict(ApiError):
    status = 409
    title = "Conflict"


class PayloadTooLarge(ApiError):
    """413: the request, or what it would publish, is larger than a configured limit.

    ``detail`` names the limit in bytes and the setting that raises it.
    """

    status = 413
    title = "Content Too Large"


class UnsupportedMediaType(ApiError):
    status = 415
    title = "Unsupported Media Type"


class ValidationFailed(ApiError):
    """422 with one violation per invalid property."""

    status = 422
    title = "An error occurred"

    def __init__(self, violations: Sequence[Violation]) -> None:
        detail = "\n".join(f"{v.property_path}: {v.message}" for v in violations)
        super().__init__(detail)
        self.violations = tuple(violations)

    def body(self) -> dict[str, Any]:
        body = super().body()
        body["@context"] = "/contexts/ConstraintViolation"
        body["@type"] = "ConstraintViolation"
        body["type"] = "/validation_errors/422"
        body["violations"] = [
            {"propertyPath": v.property_path, "message": v.message} for v in self.violations
        ]
        return body


def problem_response(error: ApiError) -> Response:
    """Render ``error`` as a problem+json response with its headers; in a request, the
    body's ``requestId`` is the request's id (:mod:`app.request_id`)."""
    document = error.body()
    request_id = current_request_id()
    if request_id is not None:
        document["requestId"] = request_id
    body = json.dumps(document, separators=(",", ":"))  # ASCII: safe for any detail
    response = Response(body, status=error.status, mimetype=PROBLEM_JSON)
    response.headers.update(error.headers)
    if has_request_context() and ACCEPT_NEGOTIATED in request.environ:
        response.headers.add("Vary", "Accept")
    return response


class ServiceUnavailable(ApiError):
    """503: a service the request depends on cannot be reached; retrying later may work."""

    status = 503
    title = "Service Unavailable"


class DatabaseUnavailable(ServiceUnavailable):
    """503: the database could not be reached or failed to complete the request.

    The detail is always the same generic sentence: the driver's message (which may name
    the database's host, port, name or schema) goes to the log only."""

    DETAIL = "The database is unavailable or failed to complete the request; try again later."

    def __init__(self, detail: str = DETAIL) -> None:
        super().__init__(detail)


class _HttpError(ApiError):
    """Adapter carrying a werkzeug exception's status through the one body shape."""

    def __init__(self, exc: HTTPException) -> None:
        super().__init__(exc.description or exc.name)
        self.status = exc.code or 500
        self.title = exc.name


def init_app(app: Flask) -> None:
    """Install handlers so every API error, and werkzeug's, answers problem+json."""

    @app.errorhandler(ApiError)
    def _api_error(error: ApiError) -> Response:
        return problem_response(error)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        response = problem_response(_HttpError(exc))
        if exc.code == 405 and exc.response is None:
            valid = getattr(exc, "valid_methods", None)
            if valid:
                response.headers["Allow"] = ", ".join(valid)
        return response
