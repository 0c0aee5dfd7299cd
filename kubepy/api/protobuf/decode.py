"""Decode Kubernetes protobuf bodies into the JSON-shaped dicts the rest of kubepy uses.

A body is ``k8s\\0`` followed by a ``runtime.Unknown`` message whose ``raw`` field holds the
object's own message. Protobuf carries no names and no types, so two sources fill them in:
- ``fields.json`` maps each message (named by its OpenAPI definition) to
  ``{field number: JSON name}``; it was derived mechanically from upstream's generated
  protobuf descriptors, because field numbers are wire contract and never change. It also
  lists the fields that are Go value types (not pointers): Go writes those on the wire even
  when zero, so a zero there means "unset" and is dropped, as Go's JSON ``omitempty`` would.
  Pointer fields are written only when set, so they are kept even when zero
  (``replicas: 0``, ``automountServiceAccountToken: false``).
- The OpenAPI schema of the containing definition says what each field holds (string,
  int32/int64, bool, double, bytes, nested message, map, list, Time, IntOrString, …).
  That keeps the table small, and types can never disagree with validation.
Embedded Go structs (``Probe`` embeds ``ProbeHandler``, ``Volume`` embeds ``VolumeSource``)
are nested messages on the wire but inlined in JSON: the table marks them
``{"inline": <message>}`` and their fields land in the parent's dict.

Plans (field number -> how to decode it) are compiled lazily per message and cached, so
a request only pays for dict lookups and the wire walk. Malformed input raises
``ProtobufError``; the API server answers it with 400 BadRequest.
"""

from __future__ import annotations

import base64
import functools
import importlib.resources
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from kubepy.api import openapi_defs

MAGIC = b"k8s\x00"
PROTOBUF_CONTENT_TYPE = "application/vnd.kubernetes.protobuf"

_META = "io.k8s.apimachinery.pkg.apis.meta.v1."
_APIEXT = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1."

# wire types
_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5

# value kinds
(
    _STRING,
    _BYTES,
    _INT32,
    _INT64,
    _BOOL,
    _DOUBLE,
    _MESSAGE,
    _TIME,
    _MICROTIME,
    _DURATION,
    _INT_OR_STRING,
    _QUANTITY,
    _RAW_JSON,
    _OR_BOOL,
    _OR_ARRAY,
    _OR_STRING_ARRAY,
    _WRAPPED_LIST,
) = range(17)
_NUMERIC = frozenset((_INT32, _INT64, _BOOL, _DOUBLE))

# field shapes
_SINGLE, _LIST, _MAP, _INLINE = range(4)

# Definitions with their own wire form (not a table of named fields).
_SPECIAL: dict[str, int] = {
    _META + "Time": _TIME,
    _META + "MicroTime": _MICROTIME,
    _META + "Duration": _DURATION,
    openapi_defs.INT_OR_STRING: _INT_OR_STRING,
    openapi_defs.QUANTITY: _QUANTITY,
    "io.k8s.apimachinery.pkg.runtime.RawExtension": _RAW_JSON,
    _META + "FieldsV1": _RAW_JSON,
    _APIEXT + "JSON": _RAW_JSON,
    _APIEXT + "JSONSchemaPropsOrBool": _OR_BOOL,
    _APIEXT + "JSONSchemaPropsOrArray": _OR_ARRAY,
    _APIEXT + "JSONSchemaPropsOrStringArray": _OR_STRING_ARRAY,
}
_JSON_SCHEMA_PROPS = _APIEXT + "JSONSchemaProps"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_GO_ZERO_TIME_SECONDS = -62135596800  # time.Time{}.Unix()
_U64 = (1 << 64) - 1


class ProtobufError(ValueError):
    """The body is not a well-formed Kubernetes protobuf object (the server answers 400)."""


@dataclass(frozen=True, slots=True)
class _Value:
    kind: int
    #: (message, schema) plan key for _MESSAGE; element _Value for _WRAPPED_LIST.
    arg: Any = None


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    shape: int
    value: _Value
    #: Go value field (always on the wire) that JSON omits when zero.
    drop_zero: bool = False


_Plan = dict[int, _Field]


# --------------------------------------------------------------------------- wire reading


def _varint(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    if pos >= end:
        raise ProtobufError("unexpected end of data")
    b = buf[pos]
    if b < 0x80:
        return b, pos + 1
    result = b & 0x7F
    shift = 7
    pos += 1
    while True:
        if pos >= end:
            raise ProtobufError("unexpected end of data inside a varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise ProtobufError("varint is longer than 10 bytes")


def _length(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    """Read a length prefix; return (start, stop) of the payload."""
    n, pos = _varint(buf, pos, end)
    stop = pos + n
    if stop > end:
        raise ProtobufError(f"length {n} runs past the end of the data")
    return pos, stop


def _skip(wt: int, num: int, buf: bytes, pos: int, end: int) -> int:
    if wt == _VARINT:
        return _varint(buf, pos, end)[1]
    if wt == _LEN:
        return _length(buf, pos, end)[1]
    if wt == _I64:
        stop = pos + 8
    elif wt == _I32:
        stop = pos + 4
    else:
        raise ProtobufError(f"illegal wire type {wt} for field {num}")
    if stop > end:
        raise ProtobufError("unexpected end of data")
    return stop


def _int32(n: int) -> int:
    n &= 0xFFFFFFFF
    return n - (1 << 32) if n >= 1 << 31 else n


def _int64(n: int) -> int:
    n &= _U64
    return n - (1 << 64) if n >= 1 << 63 else n


def _raw_fields(buf: bytes, pos: int, end: int) -> dict[int, int | bytes]:
    """All fields of a small message, last occurrence wins: varints as int, the rest as bytes."""
    out: dict[int, int | bytes] = {}
    while pos < end:
        key, pos = _varint(buf, pos, end)
        num, wt = key >> 3, key & 7
        if wt == _VARINT:
            out[num], pos = _varint(buf, pos, end)
        elif wt == _LEN:
            start, pos = _length(buf, pos, end)
            out[num] = buf[start:pos]
        else:
            start = pos
            pos = _skip(wt, num, buf, pos, end)
            out[num] = buf[start:pos]
    return out


def _get_int(fields: dict[int, int | bytes], num: int, what: str) -> int:
    v = fields.get(num, 0)
    if not isinstance(v, int):
        raise ProtobufError(f"{what}: wrong wire type for field {num}")
    return v


def _get_bytes(fields: dict[int, int | bytes], num: int, what: str) -> bytes:
    v = fields.get(num, b"")
    if not isinstance(v, bytes):
        raise ProtobufError(f"{what}: wrong wire type for field {num}")
    return v


# --------------------------------------------------------------------------- special types


def _format_time(secs: int, micros: int | None) -> str:
    try:
        t = _EPOCH + timedelta(seconds=secs, microseconds=micros or 0)
    except OverflowError:
        raise ProtobufError(f"time {secs}s is out of range") from None
    base = f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}"
    return f"{base}.{t.microsecond:06d}Z" if micros is not None else base + "Z"


def _time(buf: bytes, pos: int, stop: int, micro: bool) -> str | None:
    if pos == stop:
        return None  # Go marshals the zero time as an empty message; JSON has null
    f = _raw_fields(buf, pos, stop)
    secs = _int64(_get_int(f, 1, "Time"))
    nanos = _int32(_get_int(f, 2, "Time"))
    if secs == _GO_ZERO_TIME_SECONDS and nanos == 0:
        return None
    # metav1.Time keeps whole seconds only (as upstream's Unmarshal does); MicroTime keeps µs.
    return _format_time(secs, nanos // 1000 if micro else None)


def _frac(value: int, unit: int) -> str:
    whole, rem = divmod(value, unit)
    digits = str(rem).rjust(len(str(unit)) - 1, "0").rstrip("0")
    return f"{whole}.{digits}" if digits else str(whole)


def go_duration(ns: int) -> str:
    """Format nanoseconds as Go's ``time.Duration.String`` does: ``1h0m0s``, ``1.5s``, ``300ms``."""
    if ns == 0:
        return "0s"
    u = abs(ns)
    if u < 1_000:
        s = f"{u}ns"
    elif u < 1_000_000:
        s = _frac(u, 1_000) + "µs"
    elif u < 1_000_000_000:
        s = _frac(u, 1_000_000) + "ms"
    else:
        secs, nanos = divmod(u, 1_000_000_000)
        hours, rem = divmod(secs, 3600)
        minutes, sec = divmod(rem, 60)
        s = _frac(sec * 1_000_000_000 + nanos, 1_000_000_000) + "s"
        if hours:
            s = f"{hours}h{minutes}m{s}"
        elif minutes:
            s = f"{minutes}m{s}"
    return "-" + s if ns < 0 else s


def _raw_json(buf: bytes, pos: int, stop: int) -> Any:
    raw = _get_bytes(_raw_fields(buf, pos, stop), 1, "RawExtension")
    if not raw:
        return None
    if raw.startswith(MAGIC):
        return decode_object(raw)
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        raise ProtobufError(f"embedded raw JSON is malformed: {e}") from None


def _special(kind: int, buf: bytes, pos: int, stop: int) -> Any:
    if kind == _TIME or kind == _MICROTIME:
        return _time(buf, pos, stop, kind == _MICROTIME)
    if kind == _INT_OR_STRING:
        f = _raw_fields(buf, pos, stop)
        if _get_int(f, 1, "IntOrString") == 1:
            return _get_bytes(f, 3, "IntOrString").decode("utf-8", "replace")
        return _int32(_get_int(f, 2, "IntOrString"))
    if kind == _QUANTITY:
        s = _get_bytes(_raw_fields(buf, pos, stop), 1, "Quantity").decode("utf-8", "replace")
        return s or "0"
    if kind == _RAW_JSON:
        return _raw_json(buf, pos, stop)
    if kind == _DURATION:
        return go_duration(_int64(_get_int(_raw_fields(buf, pos, stop), 1, "Duration")))
    return _union(kind, buf, pos, stop)


def _union(kind: int, buf: bytes, pos: int, stop: int) -> Any:
    """apiextensions' JSONSchemaPropsOr{Bool,Array,StringArray}: a schema or something else."""
    plan = _plan(_JSON_SCHEMA_PROPS, _JSON_SCHEMA_PROPS)
    schema: dict[str, Any] | None = None
    items: list[Any] = []
    allows = False
    while pos < stop:
        key, pos = _varint(buf, pos, stop)
        num, wt = key >> 3, key & 7
        if kind == _OR_BOOL and num == 1 and wt == _VARINT:
            n, pos = _varint(buf, pos, stop)
            allows = n != 0
        elif num == (2 if kind == _OR_BOOL else 1) and wt == _LEN:
            start, pos = _length(buf, pos, stop)
            schema = {} if schema is None else schema
            _decode_into(buf, start, pos, plan, schema)
        elif kind != _OR_BOOL and num == 2 and wt == _LEN:
            start, pos = _length(buf, pos, stop)
            if kind == _OR_ARRAY:
                item: dict[str, Any] = {}
                _decode_into(buf, start, pos, plan, item)
                items.append(item)
            else:
                items.append(buf[start:pos].decode("utf-8", "replace"))
        else:
            pos = _skip(wt, num, buf, pos, stop)
    if kind == _OR_BOOL:
        return schema if schema is not None else allows
    return items if items else schema


# --------------------------------------------------------------------------- values


def _read(value: _Value, wt: int, num: int, buf: bytes, pos: int, end: int) -> tuple[Any, int]:
    """Read one value of ``value``'s kind at ``pos`` (just after the key)."""
    kind = value.kind
    if wt == _LEN:
        start, stop = _length(buf, pos, end)
        if kind == _STRING:
            return buf[start:stop].decode("utf-8", "replace"), stop
        if kind == _MESSAGE:
            out: dict[str, Any] = {}
            _decode_into(buf, start, stop, _plan(*value.arg), out)
            return out, stop
        if kind == _BYTES:
            return base64.b64encode(buf[start:stop]).decode("ascii"), stop
        if kind == _WRAPPED_LIST:
            return _wrapped_list(value.arg, buf, start, stop), stop
        if kind in _NUMERIC:
            raise ProtobufError(f"field {num}: a packed list where a single number belongs")
        return _special(kind, buf, start, stop), stop
    if wt == _VARINT:
        if kind == _INT32:
            n, pos = _varint(buf, pos, end)
            return _int32(n), pos
        if kind == _INT64:
            n, pos = _varint(buf, pos, end)
            return _int64(n), pos
        if kind == _BOOL:
            n, pos = _varint(buf, pos, end)
            return n != 0, pos
    elif wt == _I64 and kind == _DOUBLE:
        if pos + 8 > end:
            raise ProtobufError("unexpected end of data")
        return struct.unpack_from("<d", buf, pos)[0], pos + 8
    elif wt == _I32 and kind == _DOUBLE:
        if pos + 4 > end:
            raise ProtobufError("unexpected end of data")
        return struct.unpack_from("<f", buf, pos)[0], pos + 4
    elif wt not in (_I64, _I32):
        raise ProtobufError(f"illegal wire type {wt} for field {num}")
    raise ProtobufError(f"wrong wire type {wt} for field {num}")


def _packed(value: _Value, num: int, buf: bytes, pos: int, stop: int) -> list[Any]:
    out = []
    wt = _I64 if value.kind == _DOUBLE else _VARINT
    while pos < stop:
        v, pos = _read(value, wt, num, buf, pos, stop)
        out.append(v)
    return out


def _wrapped_list(element: _Value, buf: bytes, pos: int, stop: int) -> list[Any]:
    """A named Go slice type (``ExtraValue``) is a message with the items in field 1."""
    out: list[Any] = []
    while pos < stop:
        key, pos = _varint(buf, pos, stop)
        num, wt = key >> 3, key & 7
        if num != 1:
            pos = _skip(wt, num, buf, pos, stop)
            continue
        if wt == _LEN and element.kind in _NUMERIC:
            start, pos = _length(buf, pos, stop)
            out.extend(_packed(element, num, buf, start, pos))
        else:
            v, pos = _read(element, wt, num, buf, pos, stop)
            out.append(v)
    return out


_MISSING: Any = object()
_MAP_DEFAULTS: dict[int, Any] = {
    _STRING: "",
    _BYTES: "",
    _INT32: 0,
    _INT64: 0,
    _BOOL: False,
    _DOUBLE: 0.0,
    _QUANTITY: "0",
}


def _map_entry(value: _Value, num: int, buf: bytes, pos: int, stop: int) -> tuple[str, Any]:
    key = ""
    val: Any = _MISSING
    while pos < stop:
        k, pos = _varint(buf, pos, stop)
        fnum, wt = k >> 3, k & 7
        if fnum == 1 and wt == _LEN:
            start, pos = _length(buf, pos, stop)
            key = buf[start:pos].decode("utf-8", "replace")
        elif fnum == 2:
            val, pos = _read(value, wt, num, buf, pos, stop)
        else:
            pos = _skip(wt, fnum, buf, pos, stop)
    if val is _MISSING:
        kind = value.kind
        val = {} if kind == _MESSAGE else [] if kind == _WRAPPED_LIST else _MAP_DEFAULTS.get(kind)
    return key, val



# --------------------------------------------------------------------------- messages


def _decode_into(buf: bytes, pos: int, end: int, plan: _Plan, out: dict[str, Any]) -> None:
    while pos < end:
        key, pos = _varint(buf, pos, end)
        num, wt = key >> 3, key & 7
        f = plan.get(num)
        if f is None:
            pos = _skip(wt, num, buf, pos, end)
            continue
        shape = f.shape
        if shape == _SINGLE:
            if f.value.kind == _MESSAGE and wt == _LEN:
                start, pos = _length(buf, pos, end)
                sub = out.get(f.name)
                if not isinstance(sub, dict):
                    sub = out[f.name] = {}
                _decode_into(buf, start, pos, _plan(*f.value.arg), sub)  # repeated: merge
                continue
            v, pos = _read(f.value, wt, num, buf, pos, end)
            if f.drop_zero and not v:
                out.pop(f.name, None)
            else:
                out[f.name] = v
        elif shape == _LIST:
            items = out.get(f.name)
            if items is None:
                items = out[f.name] = []
            if wt == _LEN and f.value.kind in _NUMERIC:
                start, pos = _length(buf, pos, end)
                items.extend(_packed(f.value, num, buf, start, pos))
            else:
                v, pos = _read(f.value, wt, num, buf, pos, end)
                items.append(v)
        elif shape == _MAP:
            if wt != _LEN:
                raise ProtobufError(f"wrong wire type {wt} for map field {num}")
            start, pos = _length(buf, pos, end)
            k, v = _map_entry(f.value, num, buf, start, pos)
            entries = out.get(f.name)
            if entries is None:
                entries = out[f.name] = {}
            entries[k] = v
        else:  # _INLINE: an embedded Go struct whose fields belong to this JSON object
            if wt != _LEN:
                raise ProtobufError(f"wrong wire type {wt} for field {num}")
            start, pos = _length(buf, pos, end)
            _decode_into(buf, start, pos, _plan(*f.value.arg), out)


# --------------------------------------------------------------------------- plans


@functools.cache
def _table() -> tuple[dict[str, dict[str, Any]], dict[str, frozenset[int]]]:
    text = (importlib.resources.files("kubepy.api.protobuf") / "fields.json").read_bytes()
    data = orjson.loads(text)
    value_scalars = {name: frozenset(nums) for name, nums in data["valueScalars"].items()}
    return data["fields"], value_scalars


def _value_of(node: openapi_defs.Schema) -> _Value:
    ref = openapi_defs.ref_name(node)
    if ref is not None:
        special = _SPECIAL.get(ref)
        if special is not None:
            return _Value(special)
        if ref in _table()[0]:
            return _Value(_MESSAGE, (ref, ref))
        node = openapi_defs.resolve(node)
    typ = node.get("type")
    fmt = node.get("format")
    if typ == "string":
        if fmt == "byte":
            return _Value(_BYTES)
        if fmt == "int-or-string":
            return _Value(_INT_OR_STRING)
        if fmt == "quantity":
            return _Value(_QUANTITY)
        return _Value(_STRING)
    if typ == "integer":
        return _Value(_INT32 if fmt == "int32" else _INT64)
    if typ == "boolean":
        return _Value(_BOOL)
    if typ == "number":
        return _Value(_DOUBLE)
    if typ == "array":  # a map value that is a list: a named Go slice type on the wire
        return _Value(_WRAPPED_LIST, _value_of(node.get("items", {})))
    raise LookupError(f"no protobuf decoding for schema {node!r}")


def _field_of(name: str, prop: openapi_defs.Schema, drop_zero: bool) -> _Field:
    if prop.get("type") == "array":
        return _Field(name, _LIST, _value_of(prop.get("items", {})))
    additional = prop.get("additionalProperties")
    if isinstance(additional, dict) and openapi_defs.ref_name(prop) is None:
        return _Field(name, _MAP, _value_of(additional))
    return _Field(name, _SINGLE, _value_of(prop), drop_zero)


@functools.cache
def _plan(message: str, schema: str) -> _Plan:
    """How to decode ``message`` whose fields are properties of the definition ``schema``.

    ``schema`` differs from ``message`` only for inlined (embedded) messages.
    """
    fields, value_scalars = _table()
    spec = fields.get(message)
    if spec is None:
        raise LookupError(f"no protobuf field table for {message}")
    definition = openapi_defs.schema(schema)
    props = definition.get("properties", {})
    required = set(definition.get("required", ()))
    zeros = value_scalars.get(message, frozenset())
    plan: _Plan = {}
    for num_s, target in spec.items():
        num = int(num_s)
        if isinstance(target, dict):
            plan[num] = _Field("", _INLINE, _Value(_MESSAGE, (target["inline"], schema)))
        else:
            plan[num] = _field_of(target, props[target], num in zeros and target not in required)
    return plan


@functools.cache
def _gvk_index() -> dict[tuple[str, str, str], str]:
    return openapi_defs.gvk_index()


def definition_for(api_version: str, kind: str) -> str | None:
    """The OpenAPI definition decoded for ``apiVersion``/``kind``, if protobuf is supported."""
    group, _, version = api_version.rpartition("/")
    name = _gvk_index().get((group, version, kind))
    return name if name is not None and name in _table()[0] else None


# --------------------------------------------------------------------------- entry points


def decode_unknown(body: bytes) -> tuple[str, str, bytes]:
    """Split a body into (apiVersion, kind, raw object message)."""
    if not body.startswith(MAGIC):
        raise ProtobufError("body does not start with the Kubernetes protobuf prefix k8s\\x00")
    end = len(body)
    f = _raw_fields(body, len(MAGIC), end)
    encoding = _get_bytes(f, 3, "Unknown")
    if encoding:
        raise ProtobufError(f"unsupported content encoding {encoding.decode('utf-8', 'replace')!r}")
    content_type = _get_bytes(f, 4, "Unknown").decode("utf-8", "replace")
    if content_type and content_type != PROTOBUF_CONTENT_TYPE:
        raise ProtobufError(f"unsupported embedded content type {content_type!r}")
    type_meta = _get_bytes(f, 1, "Unknown")
    tm = _raw_fields(type_meta, 0, len(type_meta))
    api_version = _get_bytes(tm, 1, "TypeMeta").decode("utf-8", "replace")
    kind = _get_bytes(tm, 2, "TypeMeta").decode("utf-8", "replace")
    return api_version, kind, _get_bytes(f, 2, "Unknown")


def decode_message(data: bytes, definition: str) -> dict[str, Any]:
    """Decode one message of the OpenAPI ``definition`` (no prefix, no envelope)."""
    try:
        plan = _plan(definition, definition)
    except LookupError:
        raise ProtobufError(f"no protobuf decoding for {definition}") from None
    out: dict[str, Any] = {}
    try:
        _decode_into(data, 0, len(data), plan, out)
    except RecursionError:
        raise ProtobufError("message is nested too deeply") from None
    return out


def decode_object(body: bytes) -> dict[str, Any]:
    """Decode a full ``k8s\\0``-prefixed body into a JSON-shaped object with apiVersion/kind."""
    api_version, kind, raw = decode_unknown(body)
    if not kind:
        raise ProtobufError("Object 'Kind' is missing")
    if not api_version:
        raise ProtobufError("Object 'apiVersion' is missing")
    definition = definition_for(api_version, kind)
    if definition is None:
        raise ProtobufError(f"no protobuf decoding for {api_version}, Kind={kind}")
    out: dict[str, Any] = {"apiVersion": api_version, "kind": kind}
    out.update(decode_message(raw, definition))
    return out
