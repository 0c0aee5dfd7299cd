"""What every controller is built from: the API client, shared informers, an event
recorder, a clock and the controller-manager's options."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kubepy.client import REAL_CLOCK, Clock, EventRecorder, InformerFactory


@dataclass(kw_only=True)
class ControllerContext:
    client: Any  # kubepy.client.Client, or a fake with the same verbs in unit tests
    informers: InformerFactory
    recorder: EventRecorder
    clock: Clock = REAL_CLOCK
    #: controller-manager options (cluster CIDR, node-monitor grace period, ...)
    options: dict[str, Any] = field(default_factory=dict)
