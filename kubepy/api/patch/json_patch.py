"""RFC 6902 JSON patch (``application/json-patch+json``) on top of the ``jsonpatch`` library.

The library does the operations; this module gives them upstream's error contract.
Upstream decodes the body first (a body that is not a list of operation objects, or whose
``op``/``path``/``from`` are not strings, is 400 BadRequest, worded as Go's decoder
words it) and then applies it: *any* failure while applying (a failed ``test``, a missing
path, an unknown op) is a 422 Invalid whose message is the fixed text of upstream's
``NewGenericServerResponse`` with empty details; the library's own text is kept in
``PatchError.cause`` for logs. More than 10000 operations is 413, as upstream.
"""

from __future__ import annotations

from typing import Any

import jsonpatch
import jsonpointer
import orjson

from kubepy.api.field_errors import render_value

from kubepy.api.patch.errors import (
    INVALID,
    REQUEST_ENTITY_TOO_LARGE,
    PatchError,
    bad_request,
    generic_invalid,
)
from kubepy.api.patch.jsoncopy import json_copy

__all__ = ["MAX_JSON_PATCH_OPERATIONS", "apply_json_patch", "check_json_patch"]

#: upstream's maxJSONPatchOperations
MAX_JSON_PATCH_OPERATIONS = 10000

_STRING_FIELDS = ("op", "path", "from")


def _go_kind(value: Any) -> str:
    """How Go's encoding/json names a JSON value in 'cannot unmarshal X' errors."""
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "bool"
    return "number"


def _decode_error(detail: str) -> PatchError:
    return bad_request(f"error decoding patch: json: {detail}")


def check_json_patch(ops: Any) -> list[Any]:
    """Check a decoded JSON patch body the way upstream's decoder does; returns the ops.

    ``null`` is an empty patch. Raises 400 for a non-list body, non-object operations and
    non-string ``op``/``path``/``from``; 413 past the operation limit.
    """
    if ops is None:
        return []
    if not isinstance(ops, list):
        raise _decode_error(
            f"cannot unmarshal {_go_kind(ops)} into Go value of type []handlers.jsonPatchOp"
        )
    for op in ops:
        if op is None:
            continue
        if not isinstance(op, dict):
            raise _decode_error(
                f"cannot unmarshal {_go_kind(op)} into Go value of type handlers.jsonPatchOp"
            )
        for name in _STRING_FIELDS:
            value = op.get(name)
            if value is not None and not isinstance(value, str):
                raise _decode_error(
                    f"cannot unmarshal {_go_kind(value)} into Go struct field "
                    f"jsonPatchOp.{name} of type string"
                )
    if len(ops) > MAX_JSON_PATCH_OPERATIONS:
        raise PatchError(
            "Request entity too large: The allowed maximum operations in a JSON patch is "
            f"{MAX_JSON_PATCH_OPERATIONS}, got {len(ops)}",
            413,
            REQUEST_ENTITY_TOO_LARGE,
        )
    return ops


def apply_json_patch(original: dict[str, Any], ops: list[Any]) -> dict[str, Any]:
    """Apply the RFC 6902 operations ``ops`` to ``original``; neither input is mutated.

    Raises ``PatchError`` (400/413 for a malformed patch, 422 when it does not apply).
    """
    ops = check_json_patch(ops)
    if not ops:
        return dict(json_copy(original))
    doc = json_copy(original)
    try:
        # in_place on our private copy: the library would otherwise deepcopy it again;
        # copying ops keeps the result from aliasing values of the caller's patch
        patch = jsonpatch.JsonPatch([{} if op is None else op for op in json_copy(ops)])
        result = patch.apply(doc, in_place=True)
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as err:
        raise generic_invalid(str(err)) from err
    except (TypeError, KeyError, IndexError, ValueError) as err:
        # the library trips over some malformed documents with plain Python errors
        raise generic_invalid(f"{type(err).__name__}: {err}") from err
    if not isinstance(result, dict):
        # replacing the root with a non-object cannot decode into an API object
        # (upstream: the decoder's error, as a field.Invalid on "patch")
        text = orjson.dumps(result).decode()
        raise PatchError(
            f'"" is invalid: patch: Invalid value: {render_value(text)}: '
            f"json: cannot unmarshal {_go_kind(result)} into an object",
            422,
            INVALID,
        )
    return result
