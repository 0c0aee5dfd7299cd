"""Schema-driven decode checks: what upstream's typed JSON decoding would reject or drop.

kube-apiserver decodes every request body into Go structs. That decode (a) fails with
400 BadRequest on a value of the wrong JSON type (``json: cannot unmarshal string into Go
struct field DeploymentSpec.spec.replicas of type int32``), on a bad quantity, a bad
timestamp or bad base64; (b) with ``fieldValidation=Strict`` reports every unknown and
duplicated field (``strict decoding error: unknown field "spec.foo", duplicate field
"spec.paused"``), with ``Warn`` turns them into warnings; and (c) silently loses unknown
fields, because a struct has nowhere to keep them. We keep objects as plain dicts, so
this module replays those three effects from the OpenAPI definitions.

Design, for speed (it runs on every create/update/patch):
- each definition is compiled once into a ``_Node`` tree (property name -> child node,
  scalar kinds as small ints), cached for the process; recursive definitions share nodes;
- one recursive walk does type checks, unknown-field detection, key counting and
  (optionally) pruning; paths are kept as a stack and only rendered when reporting;
- duplicate keys cannot be seen in a dict, so ``check_object(..., body=...)`` compares the
  number of keys in the body bytes (one ``bytes.count``) with the number the walk saw,
  and only when they differ re-parses with the stdlib parser's ``object_pairs_hook`` to
  report duplicates in document order, interleaved with unknown fields as upstream does.
Message formats follow upstream: the decoder's ``UnmarshalTypeError`` (struct name plus
the JSON field path without list indices), sigs.k8s.io/json strict errors (paths with
``[i]`` indices, de-duplicated, at most 100), and the handlers' ``transformDecodeError``.
"""

from __future__ import annotations

import calendar
import functools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from kubepy.api import openapi_defs
from kubepy.api.quantity import parse as parse_quantity_text

__all__ = [
    "CheckResult",
    "DecodeError",
    "check_object",
    "decode_error_message",
    "find_duplicate_fields",
    "prune",
    "strict_error_message",
]

MAX_STRICT_ERRORS = 100

# node kinds
_STRUCT, _STR, _INT32, _INT64, _BOOL, _FLOAT, _BYTES, _INTORSTR, _QUANTITY = range(9)
_TIME, _MICROTIME, _ARRAY, _MAP, _ANY = range(9, 14)

_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1

_TIME_DEF = "io.k8s.apimachinery.pkg.apis.meta.v1.Time"
_MICROTIME_DEF = "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime"
# definitions whose Go type accepts any JSON (raw bytes or untyped values)
_ANY_DEFS = frozenset({
    "io.k8s.apimachinery.pkg.runtime.RawExtension",
    "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Patch",
})

# Named Go string types the OpenAPI document does not name: (struct, field) -> Go type.
# Only used to word type errors exactly as upstream does for the commonest fields.
_NAMED_STRING_TYPES: dict[tuple[str, str], str] = {
    ("Container", "imagePullPolicy"): "v1.PullPolicy",
    ("EphemeralContainer", "imagePullPolicy"): "v1.PullPolicy",
    ("Container", "terminationMessagePolicy"): "v1.TerminationMessagePolicy",
    ("EphemeralContainer", "terminationMessagePolicy"): "v1.TerminationMessagePolicy",
    ("PodSpec", "restartPolicy"): "v1.RestartPolicy",
    ("PodSpec", "dnsPolicy"): "v1.DNSPolicy",
    ("PodSpec", "preemptionPolicy"): "v1.PreemptionPolicy",
    ("ContainerPort", "protocol"): "v1.Protocol",
    ("ServicePort", "protocol"): "v1.Protocol",
    ("EndpointPort", "protocol"): "v1.Protocol",
    ("ServiceSpec", "type"): "v1.ServiceType",
    ("ServiceSpec", "sessionAffinity"): "v1.ServiceAffinity",
    ("ServiceSpec", "externalTrafficPolicy"): "v1.ServiceExternalTrafficPolicy",
    ("ServiceSpec", "internalTrafficPolicy"): "v1.ServiceInternalTrafficPolicy",
    ("ServiceSpec", "ipFamilyPolicy"): "v1.IPFamilyPolicy",
    ("Secret", "type"): "v1.SecretType",
    ("DeploymentStrategy", "type"): "v1.DeploymentStrategyType",
    ("StatefulSetSpec", "podManagementPolicy"): "v1.PodManagementPolicyType",
    ("JobSpec", "completionMode"): "v1.CompletionMode",
    ("JobSpec", "podReplacementPolicy"): "v1.PodReplacementPolicy",
    ("CronJobSpec", "concurrencyPolicy"): "v1.ConcurrencyPolicy",
    ("PersistentVolumeSpec", "persistentVolumeReclaimPolicy"): "v1.PersistentVolumeReclaimPolicy",
    ("PersistentVolumeSpec", "volumeMode"): "v1.PersistentVolumeMode",
    ("PersistentVolumeClaimSpec", "volumeMode"): "v1.PersistentVolumeMode",
    ("HTTPGetAction", "scheme"): "v1.URIScheme",
    ("NamespaceStatus", "phase"): "v1.NamespacePhase",
    ("PodStatus", "phase"): "v1.PodPhase",
}


class _Node:
    __slots__ = ("kind", "props", "item", "name", "gotype", "required")

    def __init__(self, kind: int, gotype: str = "", name: str = "") -> None:
        self.kind = kind
        self.props: dict[str, _Node] = {}
        #: STRUCT nodes: fields serialised even when empty (Go fields without omitempty)
        self.required: frozenset[str] = frozenset()
        self.item: _Node | None = None
        self.name = name  # Go struct name, for STRUCT nodes
        self.gotype = gotype  # Go type as reflect prints it, for type errors


_SCALARS: dict[str, tuple[int, str]] = {
    "boolean": (_BOOL, "bool"),
    "number": (_FLOAT, "float64"),
}


def _go_type_of_def(name: str) -> str:
    parts = name.rsplit(".", 2)
    return f"{parts[-2]}.{parts[-1]}" if len(parts) >= 2 else name


@functools.cache
def _compile_def(name: str) -> _Node:
    if name == _TIME_DEF:
        return _Node(_TIME, "string")
    if name == _MICROTIME_DEF:
        return _Node(_MICROTIME, "string")
    if name == openapi_defs.QUANTITY:
        return _Node(_QUANTITY)
    if name == openapi_defs.INT_OR_STRING or name in _ANY_DEFS:
        return _Node(_INTORSTR if name == openapi_defs.INT_OR_STRING else _ANY, "int32")
    schema = openapi_defs.definitions().get(name)
    if schema is None or "type" not in schema or schema.get("x-kubernetes-preserve-unknown-fields"):
        return _Node(_ANY)
    if schema.get("x-kubernetes-int-or-string"):
        return _Node(_INTORSTR, "int32")
    if schema.get("type") != "object" or "additionalProperties" in schema:
        return _compile_prop(schema, "", "")
    short = name.rsplit(".", 1)[-1]
    node = _Node(_STRUCT, _go_type_of_def(name), short)
    node.required = frozenset(schema.get("required", ()))
    _building[name] = node  # recursive references resolve to this node
    try:
        for prop, sub in schema.get("properties", {}).items():
            node.props[prop] = _compile_prop(sub, short, prop)
    finally:
        _building.pop(name, None)
    return node


_building: dict[str, _Node] = {}


def _ref_node(ref: str) -> _Node:
    pending = _building.get(ref)
    return pending if pending is not None else _compile_def(ref)


def _compile_prop(schema: dict[str, Any], owner: str, prop: str) -> _Node:
    ref = openapi_defs.ref_name(schema)
    if ref:
        return _ref_node(ref)
    if schema.get("x-kubernetes-int-or-string"):
        return _Node(_INTORSTR, "int32")
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return _Node(_ANY)
    typ = schema.get("type")
    fmt = schema.get("format")
    if typ == "string":
        if fmt == "byte":
            return _Node(_BYTES, "[]uint8")
        if fmt == "int-or-string":
            return _Node(_INTORSTR, "int32")
        if fmt == "quantity":
            return _Node(_QUANTITY)
        return _Node(_STR, _NAMED_STRING_TYPES.get((owner, prop), "string"))
    if typ == "integer":
        return _Node(_INT64, "int64") if fmt == "int64" else _Node(_INT32, "int32")
    if typ in _SCALARS:
        kind, gotype = _SCALARS[typ]
        return _Node(kind, gotype)
    if typ == "array":
        items = schema.get("items")
        item = _compile_prop(items, owner, prop) if isinstance(items, dict) else _Node(_ANY)
        node = _Node(_ARRAY, "[]" + (item.gotype or "interface {}"))
        node.item = item
        return node
    if typ == "object":
        add = schema.get("additionalProperties")
        if isinstance(add, dict):
            value = _compile_prop(add, owner, prop)
            gotype = "v1.ResourceList" if value.kind == _QUANTITY else "map[string]" + (value.gotype or "interface {}")
            node = _Node(_MAP, gotype)
            node.item = value
            return node
        if "properties" in schema:  # inline struct (rare)
            node = _Node(_STRUCT, "struct", owner)
            for p, sub in schema["properties"].items():
                node.props[p] = _compile_prop(sub, owner, p)
            return node
        return _Node(_ANY)
    return _Node(_ANY)


def compiled(schema_name: str) -> _Node:
    """The compiled checker for a definition (cached)."""
    return _compile_def(schema_name)


# ---------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class DecodeError:
    """A value upstream's typed decode rejects (one 400 BadRequest).

    ``message`` is the decoder's text (``json: cannot unmarshal ...`` or a quantity/time/
    base64 message); ``path`` is where it happened (``spec.template.spec.containers[0].image``);
    ``fatal`` errors come from custom unmarshalers and stop upstream's decoder at once,
    so one of them wins over an earlier non-fatal one.
    """

    path: str
    message: str
    fatal: bool = False


@dataclass(slots=True)
class CheckResult:
    #: Paths of unknown fields, as strict decoding names them (``spec.foo``,
    #: ``spec.template.spec.containers[0].imagePullPolcy``), document order.
    unknown: list[str] = field(default_factory=list)
    #: Paths of duplicated fields (only filled when the body bytes were given).
    duplicates: list[str] = field(default_factory=list)
    #: Every wrong-typed value found (upstream reports only ``decode_error``).
    type_errors: list[DecodeError] = field(default_factory=list)
    #: Strict decoding messages in upstream order: ``unknown field "x"``, ``duplicate field "y"``.
    strict_errors: list[str] = field(default_factory=list)
    #: Paths removed when pruning was asked for.
    pruned: list[str] = field(default_factory=list)

    @property
    def decode_error(self) -> DecodeError | None:
        """The one error upstream's decoder reports: the first fatal one, else the first."""
        for err in self.type_errors:
            if err.fatal:
                return err
        return self.type_errors[0] if self.type_errors else None

    @property
    def ok(self) -> bool:
        return not self.type_errors and not self.strict_errors

    def warnings(self) -> list[str]:
        """``fieldValidation=Warn``: one warning text per strict error."""
        return list(self.strict_errors)

    def strict_message(self) -> str:
        """``strict decoding error: unknown field "spec.foo", ...`` (empty when none)."""
        return strict_error_message(self.strict_errors) if self.strict_errors else ""


def strict_error_message(errors: Iterable[str]) -> str:
    return "strict decoding error: " + ", ".join(errors)


def decode_error_message(
    base: str,
    *,
    target_kind: str,
    body_kind: str = "",
    body_version: str = "",
    body: bytes = b"",
) -> str:
    """The 400 message upstream's handlers build around a decode error.

    With a kind in the body: ``Deployment in version "v1" cannot be handled as a
    Deployment: <base>``; without: ``the object provided is unrecognized (must be of type
    Deployment): <base> (<first 30 bytes of the body>)``. ``base`` is a
    ``DecodeError.message`` or ``CheckResult.strict_message()``.
    """
    if body_kind:
        return f'{body_kind} in version "{body_version}" cannot be handled as a {target_kind}: {base}'
    return f"the object provided is unrecognized (must be of type {target_kind}): {base} ({_summarize(body)})"


def _summarize(data: bytes, max_length: int = 30) -> str:
    if not data:
        return "<empty>"
    if data[:1] == b"{":
        text = data[:max_length].decode("utf-8", "replace")
        return text + " ..." if len(data) > max_length else text
    return data[:max_length].hex() + (" ..." if len(data) > max_length else "")


# ---------------------------------------------------------------------------- the walk


class _Ctx:
    __slots__ = ("prune", "count", "keys", "unknown", "errors", "pruned", "strict")

    def __init__(self, *, prune: bool, count: bool, strict: bool) -> None:
        self.prune = prune
        self.count = count
        self.strict = strict
        self.keys = 0
        self.unknown: list[str] = []
        self.errors: list[DecodeError] = []
        self.pruned: list[str] = []


# path stack entries: (field, owner_struct_name) for struct fields, int for list indices,
# (key,) for map keys


def _strict_path(stack: list[Any], last: str | None = None) -> str:
    out: list[str] = []
    for seg in stack:
        if type(seg) is int:
            out.append(f"[{seg}]")
        else:
            out.append(("." if out else "") + seg[0])
    if last is not None:
        out.append(("." if out else "") + last)
    return "".join(out)


def _type_context(stack: list[Any]) -> tuple[str, str]:
    names = [seg[0] for seg in stack if type(seg) is tuple and len(seg) == 2]
    owner = ""
    for seg in reversed(stack):
        if type(seg) is tuple and len(seg) == 2:
            owner = seg[1]
            break
    return owner, ".".join(names)


def _describe(value: Any) -> str:
    t = type(value)
    if t is str:
        return "string"
    if t is bool:
        return "bool"
    if t is dict:
        return "object"
    if t is list:
        return "array"
    return "number"


def _number_literal(value: Any) -> str:
    return "number " + (repr(value) if type(value) is float else str(value))


def _unmarshal_error(stack: list[Any], what: str, gotype: str, *, fatal: bool = False) -> DecodeError:
    owner, fieldpath = _type_context(stack)
    if owner or fieldpath:
        msg = f"json: cannot unmarshal {what} into Go struct field {owner}.{fieldpath} of type {gotype}"
    else:
        msg = f"json: cannot unmarshal {what} into Go value of type {gotype}"
    return DecodeError(_strict_path(stack), msg, fatal)


def _check_scalar(node: _Node, value: Any, ctx: _Ctx, stack: list[Any]) -> None:
    """Check a non-null value against a scalar kind; record an error if it does not fit."""
    kind = node.kind
    t = type(value)
    if kind == _STR:
        if t is not str:
            ctx.errors.append(_unmarshal_error(stack, _describe(value), node.gotype))
    elif kind == _INT32 or kind == _INT64:
        if t is int:
            lo, hi = (_INT32_MIN, _INT32_MAX) if kind == _INT32 else (_INT64_MIN, _INT64_MAX)
            if not lo <= value <= hi:
                ctx.errors.append(_unmarshal_error(stack, _number_literal(value), node.gotype))
        elif t is float:
            ctx.errors.append(_unmarshal_error(stack, _number_literal(value), node.gotype))
        else:
            ctx.errors.append(_unmarshal_error(stack, _describe(value), node.gotype))
    elif kind == _BOOL:
        if t is not bool:
            ctx.errors.append(_unmarshal_error(stack, _describe(value), "bool"))
    elif kind == _QUANTITY:
        if t is str:
            text = value.strip()
        elif t is int or t is float:
            text = repr(value)
        elif t is bool:
            text = "true" if value else "false"
        else:
            text = "{" if t is dict else "["
        try:
            parse_quantity_text(text)
        except ValueError as exc:
            ctx.errors.append(DecodeError(_strict_path(stack), str(exc), True))
    elif kind == _INTORSTR:
        if t is str:
            return
        if t is int:
            if not _INT32_MIN <= value <= _INT32_MAX:
                ctx.errors.append(_unmarshal_error(stack, _number_literal(value), "int32", fatal=True))
        elif t is float:
            ctx.errors.append(_unmarshal_error(stack, _number_literal(value), "int32", fatal=True))
        else:
            ctx.errors.append(_unmarshal_error(stack, _describe(value), "int32", fatal=True))
    elif kind == _TIME or kind == _MICROTIME:
        if t is not str:
            ctx.errors.append(_unmarshal_error(stack, _describe(value), "string", fatal=True))
        else:
            problem = go_time_parse_error(value, micro=kind == _MICROTIME)
            if problem:
                ctx.errors.append(DecodeError(_strict_path(stack), problem, True))
    elif kind == _FLOAT:
        if t is not int and t is not float or t is bool:
            ctx.errors.append(_unmarshal_error(stack, _describe(value), "float64"))
    elif kind == _BYTES:
        if t is str:
            problem = go_base64_error(value)
            if problem:
                ctx.errors.append(DecodeError(_strict_path(stack), problem))
        elif t is list:
            for i, b in enumerate(value):
                if b is not None and (type(b) is not int or not 0 <= b <= 255):
                    what = _number_literal(b) if type(b) in (int, float) else _describe(b)
                    ctx.errors.append(_unmarshal_error(stack, what, "uint8"))
                    break
        else:
            ctx.errors.append(_unmarshal_error(stack, _describe(value), "[]uint8"))


def _walk(node: _Node, value: Any, ctx: _Ctx, stack: list[Any]) -> None:
    kind = node.kind
    if kind == _STRUCT:
        if type(value) is not dict:
            ctx.errors.append(_unmarshal_error(stack, _describe(value), node.gotype))
            return
        props = node.props
        if ctx.count:
            ctx.keys += len(value)
        drop: list[str] | None = None
        owner = node.name
        for key, sub in value.items():
            child = props.get(key)
            if child is None:
                path = _strict_path(stack, key)
                ctx.unknown.append(path)
                if ctx.count and (type(sub) is dict or type(sub) is list):
                    ctx.keys += _count_keys(sub)
                if ctx.prune:
                    if drop is None:
                        drop = []
                    drop.append(key)
                    ctx.pruned.append(path)
                continue
            if sub is None:
                if ctx.prune:
                    if drop is None:
                        drop = []
                    drop.append(key)  # a typed decode keeps the zero value, which is omitted
                continue
            ck = child.kind
            if ck == _STR:
                if type(sub) is str:
                    continue
            elif ck == _INT32:
                if type(sub) is int and _INT32_MIN <= sub <= _INT32_MAX:
                    continue
            elif ck == _BOOL:
                if type(sub) is bool:
                    continue
            elif ck == _ANY:
                if ctx.count and (type(sub) is dict or type(sub) is list):
                    ctx.keys += _count_keys(sub)
                continue
            stack.append((key, owner))
            if ck <= _MICROTIME and ck != _STRUCT:
                _check_scalar(child, sub, ctx, stack)
            else:
                _walk(child, sub, ctx, stack)
                if (
                    ctx.prune
                    and (ck == _MAP or ck == _ARRAY)
                    and not sub
                    and (type(sub) is dict or type(sub) is list)
                    and key not in node.required
                ):
                    # an empty omitempty map or slice does not survive a typed round trip
                    if drop is None:
                        drop = []
                    drop.append(key)
            stack.pop()
        if drop:
            for key in drop:
                del value[key]
    elif kind == _ARRAY:
        if type(value) is not list:
            ctx.errors.append(_unmarshal_error(stack, _describe(value), node.gotype))
            return
        item = node.item
        assert item is not None
        ik = item.kind
        if ik == _STR:
            for i, sub in enumerate(value):
                if type(sub) is not str and sub is not None:
                    stack.append(i)
                    _check_scalar(item, sub, ctx, stack)
                    stack.pop()
            return
        if ik == _ANY:
            if ctx.count:
                ctx.keys += _count_keys(value)
            return
        scalar = ik <= _MICROTIME and ik != _STRUCT
        for i, sub in enumerate(value):
            if sub is None:
                if ctx.prune and ik == _STRUCT:
                    value[i] = {}
                continue
            stack.append(i)
            if scalar:
                _check_scalar(item, sub, ctx, stack)
            else:
                _walk(item, sub, ctx, stack)
            stack.pop()
    elif kind == _MAP:
        if type(value) is not dict:
            ctx.errors.append(_unmarshal_error(stack, _describe(value), node.gotype))
            return
        if ctx.count:
            ctx.keys += len(value)
        item = node.item
        assert item is not None
        ik = item.kind
        if ik == _STR:
            for key, sub in value.items():
                if type(sub) is not str:
                    if sub is None:
                        if ctx.prune:
                            value[key] = ""
                        continue
                    stack.append((key,))
                    _check_scalar(item, sub, ctx, stack)
                    stack.pop()
            return
        if ik == _ANY:
            for sub in value.values():
                if ctx.count and (type(sub) is dict or type(sub) is list):
                    ctx.keys += _count_keys(sub)
            return
        scalar = ik <= _MICROTIME and ik != _STRUCT
        for key, sub in value.items():
            if sub is None:
                continue
            stack.append((key,))
            if scalar:
                _check_scalar(item, sub, ctx, stack)
            else:
                _walk(item, sub, ctx, stack)
            stack.pop()
    elif kind == _ANY:
        if ctx.count and (type(value) is dict or type(value) is list):
            ctx.keys += _count_keys(value)
    elif value is not None:
        _check_scalar(node, value, ctx, stack)


def _count_keys(value: Any) -> int:
    if type(value) is dict:
        n = len(value)
        for sub in value.values():
            if type(sub) is dict or type(sub) is list:
                n += _count_keys(sub)
        return n
    if type(value) is list:
        n = 0
        for sub in value:
            if type(sub) is dict or type(sub) is list:
                n += _count_keys(sub)
        return n
    return 0


# ---------------------------------------------------------------------------- duplicates

_WS_COLON = re.compile(rb'"[ \t\r\n]+:')


def _raw_key_count(body: bytes) -> int | None:
    """Exact number of object keys in ``body``, or None when a cheap count cannot be exact.

    Every key ends with an unescaped quote directly followed by ``:``. Inside strings,
    ``":`` can only appear as an escaped quote (``\\":``), which is subtracted; bodies
    with ``\\\\":`` (ambiguous escapes) or whitespace before a colon take the slow path.
    """
    if b'\\\\":' in body or _WS_COLON.search(body):
        return None
    return body.count(b'":') - body.count(b'\\":')


class _Pairs(list):  # type: ignore[type-arg]
    """An object as its ordered (key, value) pairs, duplicates kept."""

    __slots__ = ()


def _pairs_hook(pairs: list[tuple[str, Any]]) -> _Pairs:
    return _Pairs(pairs)


def _parse_pairs(body: bytes) -> Any:
    return json.loads(body, object_pairs_hook=_pairs_hook)


class _StrictCtx:
    __slots__ = ("errors", "seen", "unknown", "duplicates")

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.seen: set[str] = set()
        self.unknown: list[str] = []
        self.duplicates: list[str] = []

    def add(self, msg: str) -> None:
        if len(self.errors) < MAX_STRICT_ERRORS and msg not in self.seen:
            self.seen.add(msg)
            self.errors.append(msg)


def _walk_pairs(node: _Node | None, value: Any, ctx: _StrictCtx, stack: list[Any]) -> None:
    """Strict errors in document order over a pairs tree (node None: no schema known)."""
    kind = _ANY if node is None else node.kind
    if isinstance(value, _Pairs):
        if node is not None and kind not in (_STRUCT, _MAP):
            return  # a type error; the typed pass reports it
        seen: set[str] = set()
        for key, sub in value:
            if kind == _STRUCT:
                assert node is not None
                child = node.props.get(key)
                if child is None:
                    path = _strict_path(stack, key)
                    ctx.unknown.append(path)
                    ctx.add(f'unknown field "{path}"')
                    continue
            else:
                child = node.item if node is not None else None
            if key in seen:
                path = _strict_path(stack, key)
                ctx.duplicates.append(path)
                ctx.add(f'duplicate field "{path}"')
            else:
                seen.add(key)
            stack.append((key, "") if kind == _STRUCT or node is None else (key,))
            _walk_pairs(child, sub, ctx, stack)
            stack.pop()
    elif type(value) is list:
        if node is not None and kind != _ARRAY:
            return
        item = node.item if node is not None else None
        for i, sub in enumerate(value):
            stack.append(i)
            _walk_pairs(item, sub, ctx, stack)
            stack.pop()


def find_duplicate_fields(body: bytes) -> list[str]:
    """Paths of duplicated keys in a JSON body (``spec.paused``), schema-free, document order.

    Cheap when there are none: one ``orjson`` parse and a byte count; the stdlib parser
    with a pairs hook runs only when the counts disagree.
    """
    import orjson

    raw = _raw_key_count(body)
    if raw is not None and raw == _count_keys(orjson.loads(body)):
        return []
    ctx = _StrictCtx()
    _walk_pairs(None, _parse_pairs(body), ctx, [])
    return ctx.duplicates


# ---------------------------------------------------------------------------- API


def check_object(
    obj: dict[str, Any],
    schema_name: str,
    *,
    strict_unknown: bool,
    body: bytes | None = None,
    prune: bool = False,
) -> CheckResult:
    """Check ``obj`` (decoded from a request body) against definition ``schema_name``.

    - ``type_errors``: always checked; the API server answers ``decode_error`` with 400.
    - ``unknown``: paths of fields the schema does not have (always collected).
    - ``strict_unknown``: also build ``strict_errors`` (for Strict/Warn); when ``body`` (the
      JSON bytes ``obj`` came from) is given, duplicated keys are found too and the
      messages come in document order as upstream's decoder emits them.
    - ``prune``: drop unknown fields (and nulls) from ``obj`` in place, as a typed decode
      does for Ignore/Warn; the removed paths are in ``pruned``.
    An unknown ``schema_name`` checks nothing.
    """
    result = CheckResult()
    if schema_name not in openapi_defs.definitions():
        return result
    node = compiled(schema_name)
    count = strict_unknown and body is not None
    ctx = _Ctx(prune=prune, count=count, strict=strict_unknown)
    _walk(node, obj, ctx, [])
    result.unknown = ctx.unknown
    result.type_errors = ctx.errors
    result.pruned = ctx.pruned
    if not strict_unknown:
        return result
    if body is not None:
        raw = _raw_key_count(body)
        if raw is None or raw != ctx.keys:
            sctx = _StrictCtx()
            try:
                tree = _parse_pairs(body)
            except ValueError:
                tree = None
            if tree is not None:
                _walk_pairs(node, tree, sctx, [])
                result.duplicates = sctx.duplicates
                result.strict_errors = sctx.errors
                return result
    seen: set[str] = set()
    for path in ctx.unknown:
        msg = f'unknown field "{path}"'
        if msg not in seen and len(result.strict_errors) < MAX_STRICT_ERRORS:
            seen.add(msg)
            result.strict_errors.append(msg)
    return result


def prune(obj: dict[str, Any], schema_name: str) -> list[str]:
    """Drop fields unknown to ``schema_name`` from ``obj`` in place; returns their paths."""
    return check_object(obj, schema_name, strict_unknown=False, prune=True).pruned


# ---------------------------------------------------------------------------- Go-compatible parsers


def go_base64_error(text: str) -> str | None:
    """The error Go's ``base64.StdEncoding.Decode`` gives for ``text``, or None if valid."""
    src = text.encode("utf-8")
    n = len(src)
    si = 0
    while True:
        j = 0
        while j < 4:
            if si == n:
                if j == 0:
                    return None
                return f"illegal base64 data at input byte {si - j}"
            c = src[si]
            si += 1
            if c in _B64_ALPHABET:
                j += 1
                continue
            if c in (10, 13):
                continue
            if c != 61:  # '='
                return f"illegal base64 data at input byte {si - 1}"
            if j < 2:
                return f"illegal base64 data at input byte {si - 1}"
            if j == 2:
                while si < n and src[si] in (10, 13):
                    si += 1
                if si == n:
                    return f"illegal base64 data at input byte {n}"
                if src[si] != 61:
                    return f"illegal base64 data at input byte {si - 1}"
                si += 1
            while si < n and src[si] in (10, 13):
                si += 1
            if si < n:
                return f"illegal base64 data at input byte {si}"
            return None


_B64_ALPHABET = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")

RFC3339 = "2006-01-02T15:04:05Z07:00"
RFC3339_MICRO = "2006-01-02T15:04:05.000000Z07:00"


def _go_quote(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def go_time_parse_error(value: str, *, micro: bool = False) -> str | None:
    """The error Go's ``time.Parse(RFC3339[Micro], value)`` gives, or None if it parses.

    Mirrors the layout walk of Go's parser for the two layouts metav1.Time and
    metav1.MicroTime use, including its wording (``cannot parse "x" as "2006"``,
    ``month out of range``, ``extra text``).
    """
    layout = RFC3339_MICRO if micro else RFC3339
    chunks: list[tuple[str, str]] = [("", "2006"), ("-", "01"), ("-", "02"), ("T", "15"), (":", "04"), (":", "05")]
    if micro:
        chunks.append(("", ".000000"))
    chunks.append(("", "Z07:00"))

    def bad(elem_value: str, elem_layout: str) -> str:
        return (f"parsing time {_go_quote(value)} as {_go_quote(layout)}: cannot parse "
                f"{_go_quote(elem_value)} as {_go_quote(elem_layout)}")

    def out_of_range(what: str) -> str:
        return f"parsing time {_go_quote(value)}: {what} out of range"

    rest = value
    year = month = day = 0
    for prefix, std in chunks:
        if prefix:
            if not rest.startswith(prefix):
                return bad(rest, prefix)
            rest = rest[len(prefix):]
        hold = rest
        if std == "2006":
            if len(rest) < 4 or not rest[0].isascii() or not rest[0].isdigit():
                return bad(hold, std)
            p, rest = rest[:4], rest[4:]
            if not all("0" <= c <= "9" for c in p):
                return bad(hold, std)
            year = int(p)
        elif std in ("01", "02", "15", "04", "05"):
            fixed = std != "15"
            num, rest2 = _getnum(rest, fixed)
            if num is None:
                return bad(hold, std)
            rest = rest2
            if std == "01":
                month = num
                if not 1 <= month <= 12:
                    return out_of_range("month")
            elif std == "02":
                day = num
            elif std == "15" and not 0 <= num < 24:
                return out_of_range("hour")
            elif std == "04" and not 0 <= num < 60:
                return out_of_range("minute")
            elif std == "05":
                if not 0 <= num < 60:
                    return out_of_range("second")
                if not micro and len(rest) >= 2 and rest[0] in ".," and rest[1].isdigit():
                    k = 2
                    while k < len(rest) and "0" <= rest[k] <= "9":
                        k += 1
                    rest = rest[k:]
        elif std == ".000000":
            if len(rest) < 7 or rest[0] not in ".," or not all("0" <= c <= "9" for c in rest[1:7]):
                return bad(hold, std)
            rest = rest[7:]
        else:  # Z07:00
            if rest[:1] == "Z":
                rest = rest[1:]
            else:
                if len(rest) < 6 or rest[3] != ":" or rest[0] not in "+-":
                    return bad(hold, std)
                hh, _ = _getnum(rest[1:3], True)
                mm, _ = _getnum(rest[4:6], True)
                if hh is None or mm is None:
                    return bad(hold, std)
                rest = rest[6:]
                if hh > 24:
                    return out_of_range("time zone offset hour")
                if mm > 60:
                    return out_of_range("time zone offset minute")
    if rest:
        return f"parsing time {_go_quote(value)}: extra text: {_go_quote(rest)}"
    if day < 1 or day > calendar.monthrange(year, month)[1]:
        return out_of_range("day")
    return None


def _getnum(s: str, fixed: bool) -> tuple[int | None, str]:
    if not s or not "0" <= s[0] <= "9":
        return None, s
    if len(s) < 2 or not "0" <= s[1] <= "9":
        if fixed:
            return None, s
        return int(s[0]), s[1:]
    return int(s[:2]), s[2:]
