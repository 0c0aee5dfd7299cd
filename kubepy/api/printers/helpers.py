"""Cell formatting shared by the printers: ages, selectors, label maps, container lists.

Each helper reproduces one upstream formatter exactly (``duration.HumanDuration``,
``labels.FormatLabels``, ``metav1.FormatLabelSelector``, ``GetAccessModesAsString``, ...),
because kubectl prints the server's cells verbatim and users compare them with upstream.
They take plain dicts/strings and never mutate their input.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

UNKNOWN = "<unknown>"
NONE = "<none>"
UNSET = "<unset>"

_SECOND_US = 1_000_000
_MINUTE_US = 60 * _SECOND_US
_HOUR_US = 60 * _MINUTE_US


def human_duration(delta: _dt.timedelta) -> str:
    """Upstream ``duration.HumanDuration``: about two significant figures of a duration."""
    us = delta // _dt.timedelta(microseconds=1)
    seconds = int(us / _SECOND_US)  # truncation toward zero, as Go's int(d.Seconds())
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 120:
        return f"{seconds}s"
    minutes = us // _MINUTE_US
    if minutes < 10:
        s = (us // _SECOND_US) % 60
        return f"{minutes}m" if s == 0 else f"{minutes}m{s}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = us // _HOUR_US
    if hours < 8:
        m = minutes % 60
        return f"{hours}h" if m == 0 else f"{hours}h{m}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        h = hours % 24
        return f"{hours // 24}d" if h == 0 else f"{hours // 24}d{h}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        years = hours // 24 // 365
        return f"{years}y" if dy == 0 else f"{years}y{dy}d"
    return f"{hours // 24 // 365}y"


def parse_time(value: Any) -> _dt.datetime | None:
    """An RFC 3339 timestamp (``metav1.Time`` or ``MicroTime``) as an aware datetime, or None."""
    if not value or not isinstance(value, str):
        return None
    try:
        parsed = _dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_dt.timezone.utc)
    return parsed


def since(value: Any, now: _dt.datetime) -> str:
    """Upstream ``translateTimestampSince``: the age of a timestamp, ``<unknown>`` if unset."""
    t = parse_time(value)
    if t is None:
        return UNKNOWN
    return human_duration(now - t)


def age(obj: Mapping[str, Any], now: _dt.datetime) -> str:
    """The ``Age`` cell: time since ``metadata.creationTimestamp``."""
    return since(obj.get("metadata", {}).get("creationTimestamp"), now)


def name(obj: Mapping[str, Any]) -> str:
    return str(obj.get("metadata", {}).get("name", ""))


def format_labels(labels: Mapping[str, str] | None) -> str:
    """``labels.FormatLabels``: ``k=v`` sorted by key, joined by ``,``; ``<none>`` when empty."""
    if not labels:
        return NONE
    return ",".join(f"{k}={labels[k]}" for k in sorted(labels))


_OPERATORS = {"In": "in", "NotIn": "notin", "Exists": "", "DoesNotExist": "!"}


def label_selector_string(selector: Mapping[str, Any] | None) -> str | None:
    """``LabelSelectorAsSelector(sel).String()``; "" for nil/empty, None when invalid."""
    if not selector:
        return ""
    reqs: list[tuple[str, str]] = []
    for key, value in (selector.get("matchLabels") or {}).items():
        reqs.append((key, f"{key}={value}"))
    for expr in selector.get("matchExpressions") or ():
        key = expr.get("key", "")
        op = expr.get("operator")
        values = expr.get("values") or []
        if op in ("In", "NotIn"):
            if not values:
                return None
            joined = ",".join(sorted(values))
            reqs.append((key, f"{key} {_OPERATORS[op]} ({joined})"))
        elif op == "Exists":
            if values:
                return None
            reqs.append((key, key))
        elif op == "DoesNotExist":
            if values:
                return None
            reqs.append((key, f"!{key}"))
        else:
            return None
    reqs.sort(key=lambda r: r[0])
    return ",".join(r[1] for r in reqs)


def format_label_selector(selector: Mapping[str, Any] | None) -> str:
    """``metav1.FormatLabelSelector``: the selector string, ``<none>`` if empty, ``<error>``."""
    text = label_selector_string(selector)
    if text is None:
        return "<error>"
    return text or NONE


def container_cells(containers: Iterable[Mapping[str, Any]] | None) -> tuple[str, str]:
    """``layoutContainerCells``: container names and images, each joined by ``,``."""
    names: list[str] = []
    images: list[str] = []
    for c in containers or ():
        names.append(c.get("name", ""))
        images.append(c.get("image", ""))
    return ",".join(names), ",".join(images)


def template_containers(template: Mapping[str, Any] | None) -> tuple[str, str]:
    """Container names/images of a pod template (``spec.template``)."""
    if not template:
        return "", ""
    return container_cells(template.get("spec", {}).get("containers"))


_ACCESS_MODES = (
    ("ReadWriteOnce", "RWO"),
    ("ReadOnlyMany", "ROX"),
    ("ReadWriteMany", "RWX"),
    ("ReadWriteOncePod", "RWOP"),
)


def access_modes(modes: Sequence[str] | None) -> str:
    """``GetAccessModesAsString``: abbreviations in fixed order, duplicates dropped."""
    if not modes:
        return ""
    present = set(modes)
    return ",".join(short for full, short in _ACCESS_MODES if full in present)


def bool_ptr(value: Any) -> str:
    """``printBoolPtr``: ``True``/``False``, ``<unset>`` for nil."""
    if value is None:
        return UNSET
    return "True" if value else "False"


def int_or_string(value: Any) -> str:
    """``intstr.IntOrString.String()``."""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def list_with_more(items: list[str], count: int, limit: int = 3) -> str:
    """``listWithMoreString``: first ``limit`` items, `` + N more...``, ``<unset>`` if empty."""
    text = ",".join(items[:limit])
    if count > limit:
        return f"{text} + {count - limit} more..."
    return text or UNSET


def join_host_port(host: str, port: Any) -> str:
    """``net.JoinHostPort``: IPv6 literals get brackets."""
    if ":" in host:
        return f"[{host}]:{port}"
    return f"{host}:{port}"


def controller_of(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """``metav1.GetControllerOf``: the owner reference with ``controller: true``."""
    for ref in obj.get("metadata", {}).get("ownerReferences") or ():
        if ref.get("controller"):
            return ref  # type: ignore[no-any-return]
    return None


def group_of(api_version: str) -> str:
    return api_version.split("/", 1)[0] if "/" in api_version else ""


def resource_name(kind: str, group: str, name_: str) -> str:
    """``formatResourceName`` with kind: ``<kind>[.<group>]/<name>`` lower-cased kind part."""
    if not kind and not group:
        return name_
    gk = f"{kind}.{group}" if group else kind
    return f"{gk.lower()}/{name_}"


def condition_true(conditions: Iterable[Mapping[str, Any]] | None, ctype: str) -> bool:
    """Whether the first condition of type ``ctype`` has status ``True``."""
    for c in conditions or ():
        if c.get("type") == ctype:
            return c.get("status") == "True"
    return False
