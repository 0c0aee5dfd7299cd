"""Deep copies of JSON-shaped data (dicts, lists, str, int, float, bool, None).

Patching must never alias its inputs: the original is often a cached object shared with
watchers, and callers go on to mutate the result (defaulting, managedFields). A round
trip through orjson is the fastest deep copy of such data in CPython (several times
faster than ``copy.deepcopy``); values orjson cannot encode (ints beyond 64 bits, tuples
as keys) fall back to a recursive copy.
"""

from __future__ import annotations

from typing import Any

import orjson


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_copy(v) for v in value]
    return value


def json_copy(value: Any) -> Any:
    """An independent deep copy of ``value``."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    try:
        return orjson.loads(orjson.dumps(value))
    except (TypeError, orjson.JSONEncodeError):
        return _copy(value)
