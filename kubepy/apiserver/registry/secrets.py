"""Secret strategy: ``stringData`` is write-only sugar, merged into ``data`` on every write.

Upstream does this when converting the v1 object to its internal form: each stringData
value is base64-encoded into ``data`` (overriding a key of the same name) and stringData
itself is never stored.
"""

from __future__ import annotations

import base64

from kubepy.apiserver.registry.strategy import Obj, Strategy


def merge_string_data(obj: Obj) -> None:
    string_data = obj.pop("stringData", None)
    if not string_data:
        return
    data = obj.get("data") or {}
    for key, value in string_data.items():
        data[key] = base64.b64encode(str(value).encode()).decode()
    obj["data"] = data


class SecretStrategy(Strategy):
    def prepare_for_create(self, obj: Obj) -> None:
        merge_string_data(obj)
        super().prepare_for_create(obj)

    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        merge_string_data(new)
        super().prepare_for_update(new, old)
