"""Decoding a watch response: newline-delimited JSON events into ``(type, object)`` pairs.

Job: split the chunked body of ``GET …?watch=true`` into events (kube-api-compat.md §6.1),
turn an ``ERROR`` event into ``ApiError`` (so a 410 mid-stream reads like a 410 answer),
and hand everything else on as it arrives.

Design: aiohttp's ``readline`` refuses lines over 128 KiB, but one event carries a whole
object (a ConfigMap may approach 1 MiB), so the splitter keeps its own buffer over raw
chunks. It is a plain function over an async iterator of bytes, so it is testable without
a server.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable
from typing import Any

import orjson

from kubepy.client.errors import ApiError

__all__ = ["decode_events", "WatchEvent", "EVENT_TYPES"]

WatchEvent = tuple[str, dict[str, Any]]
EVENT_TYPES = frozenset({"ADDED", "MODIFIED", "DELETED", "BOOKMARK"})


def _event(line: bytes) -> WatchEvent:
    try:
        doc = orjson.loads(line)
    except orjson.JSONDecodeError as e:
        raise ValueError(f"malformed watch event: {line[:200]!r}") from e
    if not isinstance(doc, dict) or not isinstance(doc.get("object"), dict):
        raise ValueError(f"malformed watch event: {line[:200]!r}")
    kind = doc.get("type")
    obj: dict[str, Any] = doc["object"]
    if kind == "ERROR":
        if obj.get("kind") != "Status":
            obj = {"kind": "Status", "status": "Failure", "code": 500, "reason": "InternalError",
                   "message": f"watch error: {obj!r}"[:500]}
        raise ApiError(obj)
    if kind not in EVENT_TYPES:
        raise ValueError(f"unknown watch event type {kind!r}")
    return str(kind), obj


async def decode_events(chunks: AsyncIterable[bytes]) -> AsyncGenerator[WatchEvent, None]:
    """Yield each event of a watch body; raise ApiError on an ERROR event."""
    buf = b""
    async for chunk in chunks:
        if not chunk:
            continue
        buf = buf + chunk if buf else chunk
        if b"\n" not in chunk:
            continue
        lines = buf.split(b"\n")
        buf = lines.pop()
        for line in lines:
            if line.strip():
                yield _event(line)
    if buf.strip():
        yield _event(buf)
