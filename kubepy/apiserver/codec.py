"""Content negotiation: decode request bodies, choose and encode the response form.

Requests arrive as JSON, YAML or Kubernetes protobuf (kubectl's imperative commands);
every form becomes the same JSON-shaped dict. Responses are always JSON: plain objects,
or a ``meta.k8s.io/v1`` Table when the client's Accept asks for one.
"""

from __future__ import annotations

from typing import Any

import orjson
import yaml

from kubepy.apiserver import errors

MAX_BODY = 3 * 1024 * 1024  # upstream's default max request body size

JSON = "application/json"
YAML = "application/yaml"
PROTOBUF = "application/vnd.kubernetes.protobuf"
TABLE_CONTENT_TYPE = "application/json;as=Table;v=v1;g=meta.k8s.io"
PATCH_TYPES = (
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
)

try:
    _YamlLoader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing
    _YamlLoader = yaml.SafeLoader


def media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def decode_body(body: bytes, content_type: str) -> Any:
    """Decode a create/update body into a dict; StatusError on bad input."""
    mt = media_type(content_type) or JSON
    if mt == JSON or mt == "application/apply-patch+yaml" and body[:1] in (b"{", b"["):
        return decode_json(body)
    if mt in (YAML, "application/x-yaml", "text/yaml", "application/apply-patch+yaml"):
        return decode_yaml(body)
    if mt == PROTOBUF:
        from kubepy.api.protobuf import ProtobufError, decode_object

        try:
            return decode_object(body)
        except ProtobufError as e:
            raise errors.bad_request(f"the object provided is unrecognized or malformed: {e}") from None
    raise errors.unsupported_media_type(content_type)


def decode_json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise errors.bad_request(f"the object provided is unrecognized or malformed: {_json_error(e)}") from None


def _json_error(e: orjson.JSONDecodeError) -> str:
    return f"json: {e.msg} at offset {e.pos}" if hasattr(e, "msg") else str(e)


def decode_yaml(body: bytes) -> Any:
    try:
        return yaml.load(body, Loader=_YamlLoader)
    except yaml.YAMLError as e:
        raise errors.bad_request(
            f"the object provided is unrecognized or malformed: error converting YAML to JSON: {_yaml_error(e)}"
        ) from None


def _yaml_error(e: yaml.YAMLError) -> str:
    mark = getattr(e, "problem_mark", None)
    problem = getattr(e, "problem", None) or str(e)
    if mark is not None:
        return f"yaml: line {mark.line + 1}: {problem}"
    return f"yaml: {problem}"


def wants_table(accept: str) -> bool:
    """True when the Accept header prefers a meta.k8s.io Table (kubectl get)."""
    if "as=Table" not in accept:
        return False
    for part in accept.split(","):
        params = {k.strip(): v.strip() for k, _, v in (p.partition("=") for p in part.split(";")[1:])}
        if params.get("as") == "Table" and params.get("g") == "meta.k8s.io" and params.get("v") in ("v1", "v1beta1"):
            return True
    return False


def check_acceptable(accept: str) -> None:
    """406 unless the client takes JSON (every real client lists JSON or */*)."""
    if not accept:
        return
    for part in accept.split(","):
        mt = part.split(";", 1)[0].strip().lower()
        if mt in (JSON, "*/*", "application/*", PROTOBUF, YAML, "application/json-seq") or mt.endswith("+json"):
            return
        if mt.startswith("application/com.github.proto-openapi"):
            return
    raise errors.not_acceptable(accept)


def dumps(obj: Any, *, pretty: bool = False) -> bytes:
    if pretty:
        return orjson.dumps(obj, option=orjson.OPT_INDENT_2)
    return orjson.dumps(obj)
