"""ServiceAccount admission: pods run as a service account and get its API credentials.

As upstream's plugin, for pods being created: ``spec.serviceAccountName`` defaults to
``default``; unless automounting is off, a projected ``kube-api-access-<suffix>`` volume
(bound service-account token, the cluster CA from the ``kube-root-ca.crt`` ConfigMap, and
the namespace) is added and mounted read-only at
``/var/run/secrets/kubernetes.io/serviceaccount`` in every container.

Not yet: refusing pods whose service account does not exist (the ServiceAccount
controller that creates ``default`` in each namespace comes with the controller manager).
"""

from __future__ import annotations

from typing import Any

from kubepy.api.naming import random_suffix
from kubepy.apiserver.admission import Attributes

MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"


def token_volume(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "projected": {
            "defaultMode": 420,
            "sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {
                    "downwardAPI": {
                        "items": [
                            {"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}
                        ]
                    }
                },
            ],
        },
    }


class ServiceAccount:
    name = "ServiceAccount"

    async def admit(self, attrs: Attributes) -> None:
        info = attrs.info
        if attrs.operation != "CREATE" or info.group != "" or info.plural != "pods" or attrs.subresource:
            return
        pod = attrs.obj
        if pod is None:
            return
        spec = pod.setdefault("spec", {})
        if (pod.get("metadata") or {}).get("annotations", {}).get("kubernetes.io/config.mirror"):
            return  # mirror pods of static pods get no service account
        if not spec.get("serviceAccountName"):
            spec["serviceAccountName"] = spec.get("serviceAccount") or "default"
        spec["serviceAccount"] = spec["serviceAccountName"]
        if spec.get("automountServiceAccountToken") is False:
            return
        containers = [*spec.get("initContainers", ()), *spec.get("containers", ())]
        if any(
            m.get("mountPath") == MOUNT_PATH for c in containers for m in c.get("volumeMounts", ()) or ()
        ):
            return
        volumes = spec.setdefault("volumes", [])
        name = f"kube-api-access-{random_suffix()}"
        volumes.append(token_volume(name))
        for c in containers:
            c.setdefault("volumeMounts", []).append({"name": name, "readOnly": True, "mountPath": MOUNT_PATH})

    async def validate(self, attrs: Attributes) -> None:
        return None
