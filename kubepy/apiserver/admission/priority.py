"""Priority admission: pods get the integer priority of their PriorityClass.

As upstream's ``Priority`` plugin. On pod creation ``spec.priorityClassName`` is resolved
to ``spec.priority`` and ``spec.preemptionPolicy`` (403 when no such class exists, or when
the pod already carries a different value); a pod naming no class gets the global-default
class (its name too) or priority 0. On pod update the values set at creation are carried
over when the client left them out. For PriorityClasses: only one may be the global
default, and the built-in ``system-*`` classes cannot be deleted (upstream refuses that
in the priorityclasses storage; here it is the same 403).

Classes are read through two callables (by name, and all) so that the server can hand in
watch-cache lookups and tests plain dicts; both must be cheap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from kubepy.api.validation.scheduling import SYSTEM_PRIORITY_CLASSES
from kubepy.apiserver import errors
from kubepy.apiserver.admission import Attributes

if TYPE_CHECKING:
    from kubepy.apiserver.server import APIServer

Obj = dict[str, Any]
GROUP = "scheduling.k8s.io"
#: priority of pods when no class is named and no class is the global default
DEFAULT_PRIORITY_WHEN_NO_DEFAULT_CLASS = 0


class Priority:
    name = "Priority"

    def __init__(self, get_class: Callable[[str], Obj | None], classes: Callable[[], Iterable[Obj]]) -> None:
        self._get = get_class
        self._all = classes

    @classmethod
    def for_server(cls, server: APIServer) -> Priority:
        """The plugin reading PriorityClasses from the server's watch cache."""
        info = server.registry.get(GROUP, "v1", "priorityclasses")
        assert info is not None
        prefix = info.key_prefix()

        def get_class(name: str) -> Obj | None:
            cached = server.watch_cache.caches[prefix].get(info.key(None, name))
            return cached.obj if cached is not None else None

        def classes() -> Iterable[Obj]:
            return (c.obj for c in server.watch_cache.caches[prefix].objects.values())

        return cls(get_class, classes)

    def default_class(self) -> Obj | None:
        """The global-default class; with several (a race upstream tolerates), the lowest value."""
        best: Obj | None = None
        for pc in self._all():
            if pc.get("globalDefault") is True and (best is None or pc.get("value", 0) < best.get("value", 0)):
                best = pc
        return best

    async def admit(self, attrs: Attributes) -> None:
        info = attrs.info
        if info.group != "" or info.plural != "pods" or attrs.subresource or attrs.obj is None:
            return
        spec = attrs.obj.setdefault("spec", {})
        if attrs.operation == "UPDATE":
            old_spec = (attrs.old or {}).get("spec") or {}
            for key in ("priority", "preemptionPolicy"):
                if spec.get(key) is None and old_spec.get(key) is not None:
                    spec[key] = old_spec[key]
            return
        if attrs.operation != "CREATE":
            return
        class_name = spec.get("priorityClassName") or ""
        if not class_name:
            pc = self.default_class()
            if pc is not None:
                spec["priorityClassName"] = pc["metadata"]["name"]
        else:
            pc = self._get(class_name)
            if pc is None:
                raise errors.forbidden("pods", "", attrs.name, f"no PriorityClass with name {class_name} was found")
        priority = int(pc.get("value", 0)) if pc is not None else DEFAULT_PRIORITY_WHEN_NO_DEFAULT_CLASS
        given = spec.get("priority")
        if given is not None and given != priority:
            raise errors.forbidden(
                "pods", "", attrs.name,
                f"the integer value of priority ({given}) must not be provided in pod spec; priority admission "
                f"controller computed {priority} from the given PriorityClass name",
            )
        spec["priority"] = priority
        policy = pc.get("preemptionPolicy") if pc is not None else None
        if policy is not None:
            given_policy = spec.get("preemptionPolicy")
            if given_policy is not None and given_policy != policy:
                raise errors.forbidden(
                    "pods", "", attrs.name,
                    f"the string value of PreemptionPolicy ({given_policy}) must not be provided in pod spec; "
                    f"priority admission controller computed {policy} from the given PriorityClass name",
                )
            spec["preemptionPolicy"] = policy

    async def validate(self, attrs: Attributes) -> None:
        info = attrs.info
        if info.group != GROUP or info.plural != "priorityclasses" or attrs.subresource:
            return
        if attrs.operation == "DELETE":
            if attrs.name in SYSTEM_PRIORITY_CLASSES:
                raise errors.forbidden("priorityclasses", GROUP, attrs.name,
                                       "this is a system priority class and cannot be deleted")
            return
        if attrs.operation not in ("CREATE", "UPDATE") or attrs.obj is None:
            return
        if attrs.obj.get("globalDefault") is not True:
            return
        name = (attrs.obj.get("metadata") or {}).get("name", "")
        for pc in self._all():
            other = pc["metadata"]["name"]
            if pc.get("globalDefault") is True and other != name:
                raise errors.forbidden("priorityclasses", GROUP, name,
                                       f"PriorityClass {other} is already marked as default. Only one default "
                                       "can exist")
