"""CertificateSigningRequest strategy: spec fixed at creation, status and approval split.

As upstream's three CSR strategies: a main-resource update changes only metadata (the
stored spec and status are kept, so the spec is immutable without an error); a status
write (the signer) changes only the status, and cannot touch the Approved/Denied
conditions; an approval write (``kubectl certificate approve|deny``) changes only
``status.conditions``. Condition timestamps left empty are filled as upstream does.

The approval split is applied in ``prepare_for_subresource_update``, which the generic
store calls for writes to subresources other than status.

The requestor fields (``spec.username``/``uid``/``groups``/``extra``) come from the
authenticated user at creation: ``RequestorAdmission`` sets them (the strategy hooks do
not see the user).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from kubepy.api.field_errors import FieldError
from kubepy.apiserver.registry.strategy import Obj, Strategy

APPROVAL_TYPES = ("Approved", "Denied")


def _rfc3339(ts: float) -> str:
    return datetime.fromtimestamp(int(ts), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _conditions(obj: Obj) -> list[Obj]:
    status = obj.get("status")
    conds = status.get("conditions") if isinstance(status, dict) else None
    return [c for c in conds or () if isinstance(c, dict)]


def populate_condition_timestamps(new: Obj, old: Obj, now: str) -> None:
    """Empty lastUpdateTime -> now; empty lastTransitionTime -> the old condition's of the
    same type and status, else now."""
    old_conds = _conditions(old)
    for cond in _conditions(new):
        if not cond.get("lastUpdateTime"):
            cond["lastUpdateTime"] = now
        if not cond.get("lastTransitionTime"):
            cond["lastTransitionTime"] = next(
                (o["lastTransitionTime"] for o in old_conds
                 if o.get("type") == cond.get("type") and o.get("status") == cond.get("status")
                 and o.get("lastTransitionTime")),
                now,
            )


class CSRStrategy(Strategy):
    clock: Callable[[], float] = staticmethod(time.time)

    def _now(self) -> str:
        return _rfc3339(self.clock())

    def prepare_for_create(self, obj: Obj) -> None:
        super().prepare_for_create(obj)  # status reset: nobody creates a pre-approved request

    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        for key in ("spec", "status"):
            if key in old:
                new[key] = old[key]
            else:
                new.pop(key, None)
        Strategy.bump_generation(self, new, old)

    def prepare_for_status_update(self, new: Obj, old: Obj) -> None:
        super().prepare_for_status_update(new, old)
        status = new.get("status")
        if not isinstance(status, dict):
            status = new["status"] = {}
        kept = [c for c in _conditions(new) if c.get("type") not in APPROVAL_TYPES]
        kept.extend(c for c in _conditions(old) if c.get("type") in APPROVAL_TYPES)
        if kept:
            status["conditions"] = kept
        else:
            status.pop("conditions", None)
        populate_condition_timestamps(new, old, self._now())

    def prepare_for_approval_update(self, new: Obj, old: Obj) -> None:
        """Only ``status.conditions`` may change; everything else comes from ``old``."""
        conditions = _conditions(new)
        super().prepare_for_status_update(new, old)
        status = dict(old.get("status") or {})
        if conditions:
            status["conditions"] = conditions
        else:
            status.pop("conditions", None)
        new["status"] = status
        populate_condition_timestamps(new, old, self._now())

    def prepare_for_subresource_update(self, subresource: str, new: Obj, old: Obj) -> None:
        if subresource == "approval":
            self.prepare_for_approval_update(new, old)
        else:
            Strategy.bump_generation(self, new, old)

    def validate_update(self, new: Obj, old: Obj) -> list[FieldError]:
        # one validator serves main and approval writes: a main update restored the old
        # status, so the approval rules (no removed approval condition, ...) hold trivially
        from kubepy.api.validation import certificates

        return certificates.validate_csr_approval_update(new, old)


def set_requestor(csr: Obj, username: str, uid: str, groups: tuple[str, ...], extra: dict[str, Any]) -> None:
    """Record who asked for the certificate (upstream does it in PrepareForCreate)."""
    spec = csr.setdefault("spec", {})
    spec["username"] = username
    if uid:
        spec["uid"] = uid
    else:
        spec.pop("uid", None)
    if groups:
        spec["groups"] = list(groups)
    else:
        spec.pop("groups", None)
    if extra:
        spec["extra"] = {k: list(v) for k, v in extra.items()}
    else:
        spec.pop("extra", None)


class RequestorAdmission:
    """Mutating admission step that stamps the requesting user into new CSRs."""

    name = "CertificateSigningRequestRequestor"

    async def admit(self, attrs: Any) -> None:
        info = attrs.info
        if attrs.operation != "CREATE" or info.group != "certificates.k8s.io" or attrs.subresource:
            return
        if attrs.obj is None or attrs.user is None:
            return
        user = attrs.user
        set_requestor(attrs.obj, user.username, user.uid, tuple(user.groups), dict(user.extra))

    async def validate(self, attrs: Any) -> None:
        return None
