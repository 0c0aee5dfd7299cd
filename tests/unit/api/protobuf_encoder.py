"""A tiny protobuf writer for building Kubernetes bodies in tests.

Field numbers are spelled out by each test (from upstream's generated.proto), never looked
up in kubepy's table, so the tests check the table rather than repeat it.
"""

from __future__ import annotations

import struct

MAGIC = b"k8s\x00"


def varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # negative numbers take ten bytes, as Go writes them
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def key(num: int, wire_type: int) -> bytes:
    return varint(num << 3 | wire_type)


def num(field: int, n: int) -> bytes:
    """A varint field: int32, int64 or bool."""
    return key(field, 0) + varint(int(n))


def raw(field: int, payload: bytes) -> bytes:
    """A length-delimited field."""
    return key(field, 2) + varint(len(payload)) + payload


def s(field: int, text: str) -> bytes:
    return raw(field, text.encode())


def msg(field: int, *parts: bytes) -> bytes:
    return raw(field, b"".join(parts))


def double(field: int, x: float) -> bytes:
    return key(field, 1) + struct.pack("<d", x)


def entry(field: int, k: str, value: bytes) -> bytes:
    """One map entry; ``value`` is the already encoded field 2."""
    return msg(field, s(1, k), value)


def str_map(field: int, d: dict[str, str]) -> bytes:
    return b"".join(entry(field, k, s(2, v)) for k, v in d.items())


def time(field: int, seconds: int, nanos: int = 0) -> bytes:
    return msg(field, num(1, seconds), num(2, nanos))


def int_or_str(field: int, value: int | str) -> bytes:
    if isinstance(value, int):
        return msg(field, num(1, 0), num(2, value), s(3, ""))
    return msg(field, num(1, 1), num(2, 0), s(3, value))


def quantity(field: int, value: str) -> bytes:
    return msg(field, s(1, value))


def body(api_version: str, kind: str, *parts: bytes) -> bytes:
    """MAGIC + runtime.Unknown{typeMeta, raw, contentEncoding, contentType}."""
    type_meta = msg(1, s(1, api_version), s(2, kind))
    return MAGIC + type_meta + raw(2, b"".join(parts)) + s(3, "") + s(4, "")


def object_meta(field: int = 1, *, name: str = "", namespace: str = "", labels: dict[str, str] | None = None,
                extra: bytes = b"") -> bytes:
    """ObjectMeta as Go writes it: every value field present, zero or not."""
    return msg(
        field,
        s(1, name), s(2, ""), s(3, namespace), s(4, ""), s(5, ""), s(6, ""), num(7, 0),
        msg(8),  # creationTimestamp: the zero time is an empty message
        str_map(11, labels or {}),
        extra,
    )
