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


class BodyDecodeError(Exception):
    """The body is not well-formed; ``base`` is the decoder's message (upstream wording)."""

    def __init__(self, base: str) -> None:
        super().__init__(base)
        self.base = base


def decode_body(body: bytes, content_type: str, target_kind: str = "") -> Any:
    """Decode a request body into a dict; StatusError on bad input.

    Syntax errors are reported as upstream's handlers do, naming the expected kind:
    ``the object provided is unrecognized (must be of type ConfigMap): ...``.
    """
    try:
        return _decode_body(body, content_type)
    except BodyDecodeError as e:
        from kubepy.api.schema_check import decode_error_message

        if not target_kind:
            raise errors.bad_request(f"the object provided is unrecognized or malformed: {e.base}") from None
        raise errors.bad_request(decode_error_message(e.base, target_kind=target_kind, body=body)) from None


def _decode_body(body: bytes, content_type: str) -> Any:
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
            raise BodyDecodeError(str(e)) from None
    raise errors.unsupported_media_type(content_type)


def decode_json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise BodyDecodeError(f"couldn't get version/kind; json parse error: {_json_error(body, e)}") from None


def _json_error(body: bytes, e: orjson.JSONDecodeError) -> str:
    """Go's encoding/json wording for the common syntax errors."""
    pos = getattr(e, "pos", len(body))
    rest = body[pos:].strip()
    if not rest:
        return "unexpected end of JSON input"
    ch = chr(rest[0]) if rest[0] < 128 else "\ufffd"
    return f"invalid character '{ch}' looking for beginning of value"


def decode_yaml(body: bytes) -> Any:
    try:
        return yaml.load(body, Loader=_YamlLoader)
    except yaml.YAMLError as e:
        raise BodyDecodeError(f"error converting YAML to JSON: {_yaml_error(e)}") from None


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
