"""The ``pod-template-hash`` of a Deployment's pod template (upstream's ComputeHash).

Job: name a template with a short, stable label value, so each distinct template gets its
own ReplicaSet (``<deployment>-<hash>``) and the same template always maps to the same one.

Design: as upstream, FNV-32a over the template, then the collision count (when set) as
eight bytes (uint32 little-endian, zero padded), and the decimal digits of the hash mapped
onto a vowel-free alphabet (``SafeEncodeString``) so the value never spells words. Upstream
hashes Go's deep-printed struct; we hash the template's canonical JSON (sorted keys, no
spaces), which is equally stable for one template, so our values differ from upstream's
for the same template but behave the same way. ``collisionCount`` exists to step away
from an existing ReplicaSet with the same name but a different template.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Any

import orjson

__all__ = ["compute_hash", "fnv32a", "safe_encode"]

FNV32_OFFSET = 0x811C9DC5
FNV32_PRIME = 0x01000193
#: upstream's k8s.io/apimachinery/pkg/util/rand alphabet (no vowels, no confusable digits)
ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"


def fnv32a(data: bytes, h: int = FNV32_OFFSET) -> int:
    for b in data:
        h = ((h ^ b) * FNV32_PRIME) & 0xFFFFFFFF
    return h


def safe_encode(s: str) -> str:
    return "".join(ALPHANUMS[ord(c) % len(ALPHANUMS)] for c in s)


def compute_hash(template: Mapping[str, Any], collision_count: int | None = None) -> str:
    h = fnv32a(orjson.dumps(template, option=orjson.OPT_SORT_KEYS))
    if collision_count is not None:
        h = fnv32a(struct.pack("<I", collision_count & 0xFFFFFFFF) + b"\0" * 4, h)
    return safe_encode(str(h))
