"""API errors as clients see them: a ``Status`` object and the predicates controllers test.

Job: every non-2xx answer (and every watch ERROR event) becomes ``ApiError`` carrying the
server's ``Status`` dict; ``is_not_found``/``is_conflict``/``is_already_exists``/``is_gone``
… answer the questions reconcile loops ask, on any exception (False for non-API errors).

Design: as apimachinery's ``errors`` package, the reason is trusted first and the HTTP code
second, and a body that is not a Status (a proxy's HTML page, an empty body) is turned into
one from the code, so callers never need to parse bodies themselves.
"""

from __future__ import annotations

from typing import Any

import orjson

__all__ = [
    "ApiError",
    "status_from_response",
    "is_not_found",
    "is_conflict",
    "is_already_exists",
    "is_gone",
    "is_invalid",
    "is_forbidden",
    "is_too_many_requests",
    "is_server_error",
]

_REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    410: "Expired",
    413: "RequestEntityTooLarge",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


class ApiError(Exception):
    """The API server refused a request; ``status`` is its ``Status`` object."""

    def __init__(self, status: dict[str, Any]) -> None:
        self.status = status
        super().__init__(f"{self.code} {self.reason}: {self.message}")

    @property
    def code(self) -> int:
        code = self.status.get("code")
        return code if isinstance(code, int) else 0

    @property
    def reason(self) -> str:
        return str(self.status.get("reason") or "")

    @property
    def message(self) -> str:
        return str(self.status.get("message") or "")

    @property
    def details(self) -> dict[str, Any]:
        d = self.status.get("details")
        return d if isinstance(d, dict) else {}

    @property
    def retry_after_seconds(self) -> int | None:
        v = self.details.get("retryAfterSeconds")
        return v if isinstance(v, int) else None


def status_from_response(code: int, body: bytes) -> dict[str, Any]:
    """The Status in ``body``, or one synthesised from ``code`` when the body is not a Status."""
    try:
        doc = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        doc = None
    if isinstance(doc, dict) and doc.get("kind") == "Status":
        if not isinstance(doc.get("code"), int):
            doc["code"] = code
        return doc
    text = body[:512].decode("utf-8", "replace").strip() if body else ""
    reason = _REASONS.get(code, "InternalError" if code >= 500 else "Unknown")
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": text or f"the server responded with HTTP {code}",
        "reason": reason,
        "code": code,
    }


def _api(e: BaseException | None) -> ApiError | None:
    return e if isinstance(e, ApiError) else None


def is_not_found(e: BaseException | None) -> bool:
    a = _api(e)
    return a is not None and (a.reason == "NotFound" or (a.reason == "" and a.code == 404))


def is_already_exists(e: BaseException | None) -> bool:
    a = _api(e)
    return a is not None and a.reason == "AlreadyExists"


def is_conflict(e: BaseException | None) -> bool:
    """An optimistic-concurrency failure (stale resourceVersion or failed precondition)."""
    a = _api(e)
    return a is not None and (a.reason == "Conflict" or (a.reason == "" and a.code == 409))


def is_gone(e: BaseException | None) -> bool:
    """410: the resourceVersion (or continue token) is too old (reasons Expired and Gone)."""
    a = _api(e)
    return a is not None and (a.code == 410 or a.reason in ("Expired", "Gone"))


def is_invalid(e: BaseException | None) -> bool:
    a = _api(e)
    return a is not None and (a.reason == "Invalid" or a.code == 422)


def is_forbidden(e: BaseException | None) -> bool:
    a = _api(e)
    return a is not None and (a.reason == "Forbidden" or a.code == 403)


def is_too_many_requests(e: BaseException | None) -> bool:
    a = _api(e)
    return a is not None and (a.reason == "TooManyRequests" or a.code == 429)


def is_server_error(e: BaseException | None) -> bool:
    a = _api(e)
    return a is not None and a.code >= 500
