"""The one error type of the patch package, carrying the HTTP status upstream answers with.

Patching fails in a handful of ways that upstream's PATCH handler maps to different
statuses: a body that does not parse is 400 BadRequest, a JSON patch whose operations do
not apply is a bare 422 Invalid, an unsupported Content-Type is 415, and most strategic
merge failures are plain Go errors that the apiserver renders as 500 with an empty reason
(kubectl prints them as ``Error from server: <message>``). ``PatchError`` records the code,
reason, message and ``details`` of that Status so the HTTP layer can render it as-is; it
lives in ``api`` (not ``apiserver``) so that anything applying patches can use it.
"""

from __future__ import annotations

from typing import Any

BAD_REQUEST = "BadRequest"
INVALID = "Invalid"
UNSUPPORTED_MEDIA_TYPE = "UnsupportedMediaType"
REQUEST_ENTITY_TOO_LARGE = "RequestEntityTooLarge"
#: upstream's StatusReasonUnknown: the reason of errors that are not API statuses (500)
UNKNOWN = ""

#: the message upstream's NewGenericServerResponse gives a 422
GENERIC_INVALID_MESSAGE = "the server rejected our request due to an error in our request"


class PatchError(Exception):
    """A patch that could not be applied, as the ``metav1.Status`` upstream would return.

    ``message``/``status``/``reason``/``details`` are the Status fields; ``cause`` is the
    underlying error text when upstream hides it behind a generic message (JSON patch
    failures), for logs only.
    """

    def __init__(
        self,
        message: str,
        status: int = 422,
        reason: str = INVALID,
        *,
        details: dict[str, Any] | None = None,
        cause: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.reason = reason
        self.details = details
        self.cause = cause

    def __repr__(self) -> str:
        return f"PatchError({self.message!r}, status={self.status}, reason={self.reason!r})"

    def to_status(self) -> dict[str, Any]:
        """The ``Status`` object upstream would send (field order as upstream's JSON)."""
        out: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
        }
        if self.reason:
            out["reason"] = self.reason
        if self.details is not None:
            out["details"] = self.details
        out["code"] = self.status
        return out


def bad_request(message: str) -> PatchError:
    return PatchError(message, 400, BAD_REQUEST)


def generic_invalid(cause: str) -> PatchError:
    """upstream's ``NewGenericServerResponse(422, ...)``: fixed message, empty details."""
    return PatchError(GENERIC_INVALID_MESSAGE, 422, INVALID, details={}, cause=cause)


def internal(message: str) -> PatchError:
    """A plain error surfacing through the apiserver: 500 with an empty reason."""
    return PatchError(message, 500, UNKNOWN)


def unsupported_media_type(accepted: list[str]) -> PatchError:
    return PatchError(
        "the body of the request was in an unknown format - accepted media types include: "
        + ", ".join(accepted),
        415,
        UNSUPPORTED_MEDIA_TYPE,
    )
