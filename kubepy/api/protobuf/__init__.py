"""Kubernetes protobuf request bodies (``application/vnd.kubernetes.protobuf``).

kubectl's imperative commands (``create deployment``, ``create token``, ``auth can-i``…)
POST protobuf, not JSON. ``decode_object`` turns such a body into the same JSON-shaped
dict the JSON path produces, so everything after decoding is shared. Field numbers live
in ``fields.json`` (derived from upstream's generated protobuf descriptors); value types
come from the OpenAPI schema. Responses are always JSON, so there is no encoder.
"""

from __future__ import annotations

from kubepy.api.protobuf.decode import (
    MAGIC,
    ProtobufError,
    decode_message,
    decode_object,
    decode_unknown,
    go_duration,
)

__all__ = [
    "MAGIC",
    "ProtobufError",
    "decode_message",
    "decode_object",
    "decode_unknown",
    "go_duration",
]
