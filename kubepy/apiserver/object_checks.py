"""Decoding checks on request objects, before any strategy sees them.

Upstream decodes bodies into typed structs: the group/version/kind must match the
endpoint, unknown fields are dropped (and reported per ``fieldValidation``), values of
the wrong type fail the decode (400), and defaults are applied. We do the same on dicts,
driven by the OpenAPI definitions.
"""

from __future__ import annotations

from typing import Any

from kubepy.api import defaults, schema_check
from kubepy.api.resources import ResourceInfo
from kubepy.apiserver import errors


def _custom(info: ResourceInfo) -> Any:
    """Custom resources carry their own body checks (kubepy.apiserver.crds.serving)."""
    return info.extra.get("objectChecks")


def check_kind(obj: dict[str, Any], info: ResourceInfo, kind: str | None = None) -> None:
    expected_kind = kind or info.kind
    av = obj.get("apiVersion")
    k = obj.get("kind")
    if av is not None and not isinstance(av, str) or k is not None and not isinstance(k, str):
        raise errors.bad_request("the object provided is unrecognized or malformed: apiVersion and kind must be strings")
    if av and av != info.api_version:
        raise errors.bad_request(
            f"the API version in the data ({av}) does not match the expected API version ({info.api_version})"
        )
    if k and k != expected_kind:
        raise errors.bad_request(f"the kind in the data ({k}) does not match the expected kind ({expected_kind})")


def check_body_object(
    obj: dict[str, Any],
    info: ResourceInfo,
    validation: str,
    warnings: list[str],
    *,
    body: bytes | None = None,
    kind: str | None = None,
    schema: str | None = None,
) -> None:
    """Check and default a decoded create/update body in place (StatusError on failure)."""
    body_kind = obj.get("kind")
    body_version = obj.get("apiVersion")
    check_kind(obj, info, kind)
    schema_name = schema or info.schema
    if not schema_name:
        custom = _custom(info)
        if custom is not None:
            custom.check_body(obj, validation, warnings)
        return
    version = body_version.rsplit("/", 1)[-1] if isinstance(body_version, str) else ""
    _check(obj, schema_name, validation, warnings, kind or info.kind, body=body,
           body_kind=body_kind if isinstance(body_kind, str) else "", body_version=version)
    defaults.apply_defaults(obj, schema_name)


def check_patched_object(obj: dict[str, Any], info: ResourceInfo, validation: str, warnings: list[str]) -> None:
    """The same checks on the result of a patch."""
    check_kind(obj, info)
    if not info.schema:
        custom = _custom(info)
        if custom is not None:
            custom.check_patched(obj, validation, warnings)
        return
    _check(obj, info.schema, validation, warnings, info.kind, body_kind=info.kind, body_version=info.version)
    defaults.apply_defaults(obj, info.schema)


def _check(
    obj: dict[str, Any],
    schema_name: str,
    validation: str,
    warnings: list[str],
    kind: str,
    *,
    body: bytes | None = None,
    body_kind: str = "",
    body_version: str = "",
) -> None:
    strict = validation != "Ignore"
    result = schema_check.check_object(obj, schema_name, strict_unknown=strict, body=body, prune=True)
    err = result.decode_error
    if err is not None:
        raise errors.bad_request(schema_check.decode_error_message(
            err.message, target_kind=kind, body_kind=body_kind, body_version=body_version, body=body or b"",
        ))
    if not result.strict_errors:
        return
    if validation == "Strict":
        raise errors.bad_request(schema_check.decode_error_message(
            result.strict_message(), target_kind=kind, body_kind=body_kind, body_version=body_version,
            body=body or b"",
        ))
    if validation == "Warn":
        warnings.extend(result.warnings())


def check_applied_object(obj: dict[str, Any], info: ResourceInfo, validation: str, warnings: list[str]) -> None:
    """An apply configuration: kind and field checks only (it is partial, so no defaults)."""
    check_kind(obj, info)
    if not obj.get("apiVersion") or not obj.get("kind"):
        raise errors.bad_request("apiVersion and kind must be set in an apply configuration")
    if not info.schema:
        custom = _custom(info)
        if custom is not None:
            custom.check_applied(obj, validation, warnings)
        return
    result = schema_check.check_object(obj, info.schema, strict_unknown=validation != "Ignore", prune=False)
    err = result.decode_error
    if err is not None:
        raise errors.bad_request(schema_check.decode_error_message(
            err.message, target_kind=info.kind, body_kind=info.kind, body_version=info.version))
    if result.strict_errors:
        if validation == "Strict":
            raise errors.bad_request(schema_check.decode_error_message(
                result.strict_message(), target_kind=info.kind, body_kind=info.kind, body_version=info.version))
        if validation == "Warn":
            warnings.extend(result.warnings())
