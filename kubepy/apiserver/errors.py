"""API errors as upstream ``metav1.Status`` objects.

Handlers raise ``StatusError``; the HTTP layer renders ``err.status`` as JSON with
``err.code``. Constructors mirror upstream's ``k8s.io/apimachinery/pkg/api/errors``: the
messages, reasons and ``details`` are what kubectl and client libraries print and parse.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kubepy.api.field_errors import FieldError, aggregate_message


class StatusError(Exception):
    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}

    @property
    def status(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        }
        if self.details is not None:
            out["details"] = self.details
        out["code"] = self.code
        return out


def _details(name: str, group: str, kind: str, **extra: Any) -> dict[str, Any]:
    d: dict[str, Any] = {}
    if name:
        d["name"] = name
    if group:
        d["group"] = group
    if kind:
        d["kind"] = kind
    d.update({k: v for k, v in extra.items() if v})
    return d


def qualified(resource: str, group: str) -> str:
    return f"{resource}.{group}" if group else resource


def not_found(resource: str, group: str, name: str) -> StatusError:
    return StatusError(
        404, "NotFound", f'{qualified(resource, group)} "{name}" not found',
        details=_details(name, group, resource),
    )


def not_found_path() -> StatusError:
    return StatusError(404, "NotFound", "the server could not find the requested resource", details={})


def already_exists(resource: str, group: str, name: str) -> StatusError:
    return StatusError(
        409, "AlreadyExists", f'{qualified(resource, group)} "{name}" already exists',
        details=_details(name, group, resource),
    )


def conflict(resource: str, group: str, name: str, why: str) -> StatusError:
    return StatusError(
        409, "Conflict", f'Operation cannot be fulfilled on {qualified(resource, group)} "{name}": {why}',
        details=_details(name, group, resource),
    )


MODIFIED = "the object has been modified; please apply your changes to the latest version and try again"


def stale(resource: str, group: str, name: str) -> StatusError:
    return conflict(resource, group, name, MODIFIED)


def invalid(kind: str, group: str, name: str, errors: Sequence[FieldError]) -> StatusError:
    return StatusError(
        422, "Invalid", f'{kind}{"." + group if group else ""} "{name}" is invalid: {aggregate_message(errors)}',
        details=_details(name, group, kind, causes=[e.cause() for e in errors]),
    )


def bad_request(message: str, *, causes: list[dict[str, str]] | None = None) -> StatusError:
    return StatusError(400, "BadRequest", message, details={"causes": causes} if causes else None)


def forbidden(resource: str, group: str, name: str, why: str) -> StatusError:
    subject = f'{qualified(resource, group)} "{name}"' if name else qualified(resource, group)
    return StatusError(403, "Forbidden", f"{subject} is forbidden: {why}", details=_details(name, group, resource))


def unauthorized() -> StatusError:
    return StatusError(401, "Unauthorized", "Unauthorized")


def method_not_allowed() -> StatusError:
    return StatusError(
        405, "MethodNotAllowed", "the server does not allow this method on the requested resource",
        details={},
    )


ACCEPTED_MEDIA_TYPES = "application/json, application/yaml, application/vnd.kubernetes.protobuf"


def unsupported_media_type(content_type: str) -> StatusError:
    del content_type  # upstream names the accepted types, not the offending one
    return StatusError(
        415, "UnsupportedMediaType",
        f"the body of the request was in an unknown format - accepted media types include: {ACCEPTED_MEDIA_TYPES}",
    )


def not_acceptable(accept: str) -> StatusError:
    del accept
    return StatusError(406, "NotAcceptable", f"only the following media types are accepted: {ACCEPTED_MEDIA_TYPES}")


def too_large(limit: int) -> StatusError:
    return StatusError(413, "RequestEntityTooLarge", f"Request entity too large: limit is {limit}")


def expired(message: str) -> StatusError:
    return StatusError(410, "Expired", message)


def gone(message: str) -> StatusError:
    return StatusError(410, "Gone", message)


def internal(message: str) -> StatusError:
    return StatusError(500, "InternalError", f"Internal error occurred: {message}", details={"causes": [{"message": message}]})


def timeout(message: str, *, retry_after: int = 1, causes: list[dict[str, str]] | None = None) -> StatusError:
    details: dict[str, Any] = {"retryAfterSeconds": retry_after}
    if causes:
        details["causes"] = causes
    return StatusError(504, "Timeout", message, details=details)


def service_unavailable(message: str) -> StatusError:
    return StatusError(503, "ServiceUnavailable", message)
