"""Field errors: what validation returns, rendered the way upstream's field.Error does.

A ``FieldError`` becomes one ``details.causes[]`` entry of a 422 Invalid Status:
``{"reason": err.reason, "message": err.body, "field": err.field}``; the Status message
joins ``err.text`` values (``<field>: <body>``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

# upstream ErrorType -> (cause reason, short text)
REQUIRED = ("FieldValueRequired", "Required value")
INVALID = ("FieldValueInvalid", "Invalid value")
TYPE_INVALID = ("FieldValueTypeInvalid", "Invalid value")
NOT_SUPPORTED = ("FieldValueNotSupported", "Unsupported value")
FORBIDDEN = ("FieldValueForbidden", "Forbidden")
DUPLICATE = ("FieldValueDuplicate", "Duplicate value")
TOO_LONG = ("FieldValueTooLong", "Too long")
TOO_MANY = ("FieldValueTooMany", "Too many")
NOT_FOUND = ("FieldValueNotFound", "Not found")
INTERNAL = ("InternalError", "Internal error")

_OMIT = object()


def render_value(value: Any) -> str:
    """Render a bad value like upstream: strings quoted, numbers plain, objects as JSON."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return orjson.dumps(value).decode()
    if isinstance(value, (int, float)):
        return str(value)
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:
        return repr(value)


@dataclass(frozen=True, slots=True)
class FieldError:
    reason: str
    field: str
    #: The cause message (upstream ErrorBody): ``Invalid value: "x": must be ...``.
    body: str

    @property
    def text(self) -> str:
        """``<field>: <body>``, as in the Status message."""
        return f"{self.field}: {self.body}" if self.field else self.body

    def cause(self) -> dict[str, str]:
        return {"reason": self.reason, "message": self.body, "field": self.field}


def _make(kind: tuple[str, str], field: str, value: Any = _OMIT, detail: str = "") -> FieldError:
    reason, short = kind
    body = short
    if value is not _OMIT:
        body += f": {render_value(value)}"
    if detail:
        body += f": {detail}"
    return FieldError(reason, field, body)


def required(field: str, detail: str = "") -> FieldError:
    return _make(REQUIRED, field, detail=detail)


def invalid(field: str, value: Any, detail: str = "") -> FieldError:
    return _make(INVALID, field, value, detail)


def type_invalid(field: str, value: Any, detail: str = "") -> FieldError:
    return _make(TYPE_INVALID, field, value, detail)


def not_supported(field: str, value: Any, supported: Iterable[str] = ()) -> FieldError:
    values = list(supported)
    detail = ("supported values: " + ", ".join(orjson.dumps(v).decode() for v in values)) if values else ""
    return _make(NOT_SUPPORTED, field, value, detail)


def forbidden(field: str, detail: str) -> FieldError:
    return _make(FORBIDDEN, field, detail=detail)


def duplicate(field: str, value: Any) -> FieldError:
    return _make(DUPLICATE, field, value)


def too_long(field: str, value: Any, max_length: int) -> FieldError:
    # upstream omits the (possibly huge) value and states the limit
    return _make(TOO_LONG, field, detail=f"may not be more than {max_length} bytes")


def too_many(field: str, actual: int, max_items: int) -> FieldError:
    return _make(TOO_MANY, field, actual, f"must have at most {max_items} items")


def not_found(field: str, value: Any) -> FieldError:
    return _make(NOT_FOUND, field, value)


def internal(field: str, detail: str) -> FieldError:
    return _make(INTERNAL, field, detail=detail)


def aggregate_message(errors: Iterable[FieldError]) -> str:
    """Join errors as upstream's utilerrors.Aggregate: one alone, several in brackets."""
    texts = [e.text for e in errors]
    if len(texts) == 1:
        return texts[0]
    return "[" + ", ".join(texts) + "]"
