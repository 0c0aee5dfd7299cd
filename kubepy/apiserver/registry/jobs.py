"""Job strategy: the generated selector and controller-uid labels upstream adds on create."""

from __future__ import annotations

from kubepy.apiserver.registry.strategy import Obj, Strategy


class JobStrategy(Strategy):
    def prepare_for_create(self, obj: Obj) -> None:
        super().prepare_for_create(obj)
        from kubepy.api.validation import batch

        gen = getattr(batch, "generate_job_selector", None)
        if gen is not None:
            gen(obj)
