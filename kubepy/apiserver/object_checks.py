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
    check_kind(obj, info, kind)
    schema_name = schema or info.schema
    if not schema_name:
        return
    problems: list[str] = []
    if body is not None and validation != "Ignore":
        problems.extend(schema_check.find_duplicate_fields(body))
    _check(obj, schema_name, validation, warnings, problems, kind or info.kind, info.api_version)
    defaults.apply_defaults(obj, schema_name)


def check_patched_object(obj: dict[str, Any], info: ResourceInfo, validation: str, warnings: list[str]) -> None:
    """The same checks on the result of a patch."""
    check_kind(obj, info)
    if not info.schema:
        return
    _check(obj, info.schema, validation, warnings, [], info.kind, info.api_version)
    defaults.apply_defaults(obj, info.schema)


def _check(
    obj: dict[str, Any],
    schema_name: str,
    validation: str,
    warnings: list[str],
    problems: list[str],
    kind: str,
    api_version: str,
) -> None:
    result = schema_check.check_object(obj, schema_name, prune=True)
    if result.type_errors:
        raise errors.bad_request(schema_check.type_error_message(result, kind=kind, api_version=api_version))
    problems = problems + [f'unknown field "{p}"' for p in result.unknown]
    if not problems:
        return
    if validation == "Strict":
        raise errors.bad_request("strict decoding error: " + ", ".join(problems))
    if validation == "Warn":
        warnings.extend(problems)
