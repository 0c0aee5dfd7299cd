"""Node strategy: a node registers with its status, so create keeps it (as upstream)."""

from __future__ import annotations

from kubepy.apiserver.registry.strategy import Obj, Strategy


class NodeStrategy(Strategy):
    def prepare_for_create(self, obj: Obj) -> None:
        status = obj.get("status")
        super().prepare_for_create(obj)
        if status:
            obj["status"] = status
