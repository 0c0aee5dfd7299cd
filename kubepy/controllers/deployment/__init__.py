"""The Deployment controller (``kubepy controller-manager --controllers=deployment``).

Split by concern as upstream's pkg/controller/deployment: controller.py (informers, event
handlers, claiming ReplicaSets, dispatch), sync.py (the new ReplicaSet, scaling, history
cleanup, status), rolling.py and recreate.py (the two strategies), rollback.py (an old
ReplicaSet becoming the new one again), progress.py (Progressing/Available conditions and
the progress deadline), replicasets.py (the pure arithmetic) and hashing.py
(pod-template-hash).
"""

from __future__ import annotations

from kubepy.controllers.context import ControllerContext

from .controller import DeploymentController

__all__ = ["DeploymentController", "new"]


def new(ctx: ControllerContext) -> DeploymentController:
    return DeploymentController(ctx)
