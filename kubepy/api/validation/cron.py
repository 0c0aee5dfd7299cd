"""Cron schedule and time-zone checks with the error texts of robfig/cron v3 and Go's time.

CronJob validation reports the parser's own error string (``expected exactly 5 fields,
found 3: [* * *]``, ``end of range (60) above maximum (59): 60``), so this is a faithful
re-implementation of ``cron.ParseStandard``'s checks — it validates, it does not compute
next run times. Time zones resolve through the system tz database (``zoneinfo``), cached.
"""

from __future__ import annotations

import re
import zoneinfo
from functools import lru_cache

_MINUTES = (0, 59, None)
_HOURS = (0, 23, None)
_DOM = (1, 31, None)
_MONTHS = (1, 12, {m: i + 1 for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"))})
_DOW = (0, 6, {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))})
_BOUNDS = (_MINUTES, _HOURS, _DOM, _MONTHS, _DOW)
_DESCRIPTORS = frozenset({"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"})
_DURATION_RE = re.compile(r"^[-+]?((\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h))+$")
_INT_RE = re.compile(r"^[+-]?\d+$")
_TZ_PART_RE = re.compile(r"^[A-Za-z.\-_0-9+]{1,14}$")


class CronError(ValueError):
    pass


def _atoi(expr: str) -> int:
    if not _INT_RE.match(expr):
        raise CronError(f'failed to parse int from {expr}: strconv.Atoi: parsing "{expr}": invalid syntax')
    num = int(expr)
    if num < 0:
        raise CronError(f"negative number ({num}) not allowed: {expr}")
    return num


def _int_or_name(expr: str, names: dict[str, int] | None) -> int:
    if names is not None and expr.lower() in names:
        return names[expr.lower()]
    return _atoi(expr)


def _check_range(expr: str, bounds: tuple[int, int, dict[str, int] | None]) -> None:
    lo, hi, names = bounds
    range_and_step = expr.split("/")
    low_and_high = range_and_step[0].split("-")
    single = len(low_and_high) == 1
    if low_and_high[0] in ("*", "?"):
        start, end = lo, hi
    else:
        start = _int_or_name(low_and_high[0], names)
        if len(low_and_high) == 1:
            end = start
        elif len(low_and_high) == 2:
            end = _int_or_name(low_and_high[1], names)
        else:
            raise CronError(f"too many hyphens: {expr}")
    if len(range_and_step) == 1:
        step = 1
    elif len(range_and_step) == 2:
        step = _atoi(range_and_step[1])
        if single:
            end = hi
    else:
        raise CronError(f"too many slashes: {expr}")
    if start < lo:
        raise CronError(f"beginning of range ({start}) below minimum ({lo}): {expr}")
    if end > hi:
        raise CronError(f"end of range ({end}) above maximum ({hi}): {expr}")
    if start > end:
        raise CronError(f"beginning of range ({start}) beyond end of range ({end}): {expr}")
    if step == 0:
        raise CronError(f"step of range should be a positive number: {expr}")


def _check_duration(text: str) -> str | None:
    if text in ("0", "+0", "-0"):
        return None
    if not text:
        return 'time: invalid duration ""'
    if _DURATION_RE.match(text):
        return None
    if re.match(r"^[-+]?[\d.]+$", text):
        return f'time: missing unit in duration "{text}"'
    m = re.match(r"^[-+]?[\d.]+([^\d.]+)", text)
    if m and re.match(r"^[-+]?(\d+\.?\d*|\.\d+)", text):
        return f'time: unknown unit "{m.group(1)}" in duration "{text}"'
    return f'time: invalid duration "{text}"'


@lru_cache(maxsize=512)
def load_location_error(name: str) -> str | None:
    """Go's time.LoadLocation error text for ``name``, or None when it loads."""
    if name in ("", "UTC", "Local"):
        return None
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return f"unknown time zone {name}"
    return None


@lru_cache(maxsize=1024)
def parse_standard_error(spec: str) -> str | None:
    """None when ``spec`` parses as robfig/cron's ParseStandard would, else its error."""
    if not spec:
        return "empty spec string"
    if spec.startswith(("TZ=", "CRON_TZ=")):
        i = spec.find(" ")
        eq = spec.find("=")
        loc = spec[eq + 1 : i] if i >= 0 else spec[eq + 1 :]
        err = load_location_error(loc)
        if err:
            return f"provided bad location {loc}: {err}"
        spec = spec[i:].strip() if i >= 0 else ""
    if spec.startswith("@"):
        if spec in _DESCRIPTORS:
            return None
        if spec.startswith("@every "):
            err = _check_duration(spec[len("@every ") :])
            return f"failed to parse duration {spec}: {err}" if err else None
        return f"unrecognized descriptor: {spec}"
    fields = spec.split()
    if len(fields) != 5:
        return f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]"
    try:
        for field, bounds in zip(fields, _BOUNDS):
            for expr in (part for part in field.split(",") if part):
                _check_range(expr, bounds)
    except CronError as e:
        return str(e)
    return None


def time_zone_errors(tz: str) -> list[str]:
    """CronJob spec.timeZone rules (the caller handles nil)."""
    if not tz:
        return ["timeZone must be nil or non-empty string"]
    for part in tz.split("/"):
        if part in (".", "..") or part.startswith("-") or not _TZ_PART_RE.match(part):
            return [f"unknown time zone {tz}"]
    errs: list[str] = []
    if tz.lower() == "local":
        errs.append("timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones")
    err = load_location_error(tz)
    if err:
        errs.append(err)
    return errs
