"""DefaultTolerationSeconds: pods tolerate a not-ready or unreachable node for 300 s.

As upstream's plugin: a pod being created that does not already tolerate the
``node.kubernetes.io/not-ready`` / ``node.kubernetes.io/unreachable`` NoExecute taints gets
a toleration for each with ``tolerationSeconds: 300``, so a brief node outage does not
evict everything at once.
"""

from __future__ import annotations

from typing import Any

from kubepy.apiserver.admission import Attributes

NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"
DEFAULT_SECONDS = 300


def _tolerates(tolerations: list[dict[str, Any]], key: str) -> bool:
    for t in tolerations:
        effect = t.get("effect", "")
        if effect not in ("", "NoExecute"):
            continue
        if t.get("operator") == "Exists" and not t.get("key"):
            return True
        if t.get("key") == key:
            return True
    return False


class DefaultTolerationSeconds:
    name = "DefaultTolerationSeconds"

    def __init__(self, seconds: int = DEFAULT_SECONDS) -> None:
        self.seconds = seconds

    async def admit(self, attrs: Attributes) -> None:
        info = attrs.info
        if attrs.operation != "CREATE" or info.group != "" or info.plural != "pods" or attrs.subresource:
            return
        pod = attrs.obj
        if pod is None:
            return
        spec = pod.setdefault("spec", {})
        tolerations = list(spec.get("tolerations") or [])
        for key in (NOT_READY, UNREACHABLE):
            if not _tolerates(tolerations, key):
                tolerations.append({"key": key, "operator": "Exists", "effect": "NoExecute",
                                    "tolerationSeconds": self.seconds})
        spec["tolerations"] = tolerations

    async def validate(self, attrs: Attributes) -> None:
        return None
