"""PATCH bodies: JSON patch, JSON merge patch and strategic merge patch.

``apply_patch`` is what the PATCH handler calls: it parses the body, picks the mechanism
from the Content-Type exactly as upstream's handler does (parameters after ``;`` are
ignored) and returns the patched object, or raises ``PatchError`` carrying the Status
upstream would answer with. Server-side apply (``application/apply-patch+yaml``) is a
different operation with its own module; it is refused here so that a caller cannot
silently treat an apply as a merge.
"""

from __future__ import annotations

from typing import Any

import orjson

from kubepy.api.patch.errors import PatchError, bad_request, unsupported_media_type
from kubepy.api.patch.json_patch import apply_json_patch, check_json_patch
from kubepy.api.patch.merge import apply_merge_patch
from kubepy.api.patch.strategic import apply_strategic_merge_patch

__all__ = [
    "APPLY_PATCH_YAML",
    "JSON_PATCH",
    "MERGE_PATCH",
    "STRATEGIC_MERGE_PATCH",
    "PatchError",
    "apply_json_patch",
    "apply_merge_patch",
    "apply_patch",
    "apply_strategic_merge_patch",
    "supported_patch_types",
]

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH_YAML = "application/apply-patch+yaml"

_GO_MAP = "map[string]interface {}"


def supported_patch_types(*, builtin: bool) -> list[str]:
    """The PATCH Content-Types a resource accepts, in upstream's order (custom resources
    have no strategic merge patch)."""
    if builtin:
        return [JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, APPLY_PATCH_YAML]
    return [JSON_PATCH, MERGE_PATCH, APPLY_PATCH_YAML]


def _media_type(content_type: str) -> str:
    idx = content_type.find(";")
    if idx > 0:
        content_type = content_type[:idx]
    return content_type.strip()


def _go_kind(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "bool"
    return "number"


def _parse(body: bytes, prefix: str) -> Any:
    if not body.strip():
        raise bad_request(f"{prefix}unexpected end of JSON input")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as err:
        raise bad_request(f"{prefix}invalid JSON: {err}") from err


def apply_patch(
    original: dict[str, Any],
    patch_bytes: bytes,
    content_type: str,
    *,
    schema_name: str | None,
) -> dict[str, Any]:
    """Apply a PATCH body to ``original`` and return the new object (inputs untouched).

    ``schema_name`` is the OpenAPI definition of a built-in kind; ``None`` means a custom
    resource, which has no strategic merge patch (415 as upstream). Raises ``PatchError``.
    """
    media = _media_type(content_type)
    accepted = supported_patch_types(builtin=schema_name is not None)
    if media not in accepted:
        raise unsupported_media_type(accepted)
    if media == JSON_PATCH:
        ops = check_json_patch(_parse(patch_bytes, "error decoding patch: "))
        return apply_json_patch(original, ops)
    if media == MERGE_PATCH:
        patch = _parse(patch_bytes, "error decoding patch: ")
        if patch is None:
            raise bad_request("Invalid JSON Patch")
        if not isinstance(patch, dict):
            raise bad_request(
                f"error decoding patch: json: cannot unmarshal {_go_kind(patch)} "
                f"into Go value of type {_GO_MAP}"
            )
        result: dict[str, Any] = apply_merge_patch(original, patch)
        return result
    if media == STRATEGIC_MERGE_PATCH:
        assert schema_name is not None
        return apply_strategic_merge_patch(original, _parse(patch_bytes, ""), schema_name)
    raise PatchError(
        f"{APPLY_PATCH_YAML} is server-side apply, which is not a patch mechanism",
        415,
        "UnsupportedMediaType",
    )
