"""Cron schedules for the CronJob controller: parse a spec once, then ask for the next time.

Job: ``parse(spec, tz=None) -> Schedule`` and ``Schedule.next(after) -> datetime | None``
compute run times exactly as robfig/cron v3 (what upstream's controller uses) does:
5-field standard specs with ranges, steps, lists and names (``JAN``, ``MON``), ``*``/``?``,
the descriptors ``@yearly @annually @monthly @weekly @daily @midnight @hourly``,
``@every <duration>``, and a ``TZ=``/``CRON_TZ=`` prefix (how the controller applies
``spec.timeZone``).

Design: validation already lives in kubepy.api.validation.cron (with robfig's error texts),
so ``parse`` runs that check first and only then builds bit sets; there is one parser of
record for what is valid. ``next`` follows robfig's field-by-field walk (month, day, hour,
minute, second), doing calendar steps in the schedule's zone and hour/minute steps in
absolute time, which gives robfig's answers around DST changes: a wall time skipped by a
spring-forward does not run that day, and the walk never loops forever (it gives up five
years ahead, returning None, as robfig returns the zero time). Pure functions only: the
controller passes in "now".
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache

from kubepy.api.validation.cron import parse_standard_error

__all__ = ["CronError", "Schedule", "parse", "location"]

STAR_BIT = 1 << 63
_MONTH_NAMES = {m: i + 1 for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"))}
_DOW_NAMES = {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
# (min, max, names) for minute, hour, day of month, month, day of week
_FIELDS: tuple[tuple[int, int, dict[str, int] | None], ...] = (
    (0, 59, None), (0, 23, None), (1, 31, None), (1, 12, _MONTH_NAMES), (0, 6, _DOW_NAMES),
)
_DESCRIPTORS = {
    "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
}
_DURATION_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


class CronError(ValueError):
    """The spec does not parse (the message is robfig/cron's)."""


@lru_cache(maxsize=256)
def location(name: str | None) -> tzinfo:
    """Go's time.LoadLocation: "" / None / "UTC" → UTC, else the IANA zone (CronError if unknown)."""
    if not name or name == "UTC":
        return UTC
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError) as e:
        raise CronError(f"unknown time zone {name}") from e


def _bits(expr: str, lo: int, hi: int, names: dict[str, int] | None) -> int:
    def num(s: str) -> int:
        return names[s.lower()] if names is not None and s.lower() in names else int(s)

    range_and_step = expr.split("/")
    low_high = range_and_step[0].split("-")
    extra = 0
    if low_high[0] in ("*", "?"):
        start, end, extra = lo, hi, STAR_BIT
    else:
        start = num(low_high[0])
        end = num(low_high[1]) if len(low_high) == 2 else start
    step = 1
    if len(range_and_step) == 2:
        step = int(range_and_step[1])
        if len(low_high) == 1:
            end = hi
        if step > 1:
            extra = 0
    out = extra
    for i in range(start, end + 1, step):
        out |= 1 << i
    return out


def _field(text: str, bounds: tuple[int, int, dict[str, int] | None]) -> int:
    out = 0
    for expr in text.split(","):
        if expr:
            out |= _bits(expr, *bounds)
    return out


def _go_duration(text: str) -> float:
    sign = -1.0 if text.startswith("-") else 1.0
    body = text.lstrip("+-")
    if body == "0":
        return 0.0
    return sign * sum(float(n) * _UNIT_SECONDS[u] for n, u in _DURATION_PART.findall(body))


@dataclass(frozen=True, slots=True)
class Schedule:
    """A parsed spec. ``every`` is set for ``@every`` schedules (then the bit sets are unused)."""

    minute: int
    hour: int
    dom: int
    month: int
    dow: int
    tz: tzinfo
    every: float = 0.0

    def next(self, after: datetime) -> datetime | None:
        """The first activation strictly after ``after`` (an aware datetime), in UTC; None if
        there is none within five years (e.g. ``0 0 30 2 *``)."""
        if self.every:
            # robfig's ConstantDelaySchedule: after + delay, sub-second part dropped
            return (after + timedelta(seconds=self.every)).replace(microsecond=0).astimezone(UTC)
        loc = self.tz
        t = after.astimezone(loc)
        # start at the upcoming whole second
        t = _add(t.replace(microsecond=0), 1)
        added = False
        year_limit = t.year + 5
        while True:  # robfig's WRAP label
            if t.year > year_limit:
                return None
            wrapped = False
            while not (1 << t.month) & self.month:
                if not added:
                    added = True
                    t = _date(t.year, t.month, 1, 0, 0, 0, loc)
                t = _add_date(t, months=1)
                if t.month == 1:
                    wrapped = True
                    break
            if wrapped:
                continue
            while not self._day_matches(t):
                if not added:
                    added = True
                    t = _date(t.year, t.month, t.day, 0, 0, 0, loc)
                t = _add_date(t, days=1)
                if t.hour != 0:  # DST moved midnight
                    t = _add(t, (24 - t.hour) * 3600 if t.hour > 12 else -t.hour * 3600)
                if t.day == 1:
                    wrapped = True
                    break
            if wrapped:
                continue
            while not (1 << t.hour) & self.hour:
                if not added:
                    added = True
                    t = _date(t.year, t.month, t.day, t.hour, 0, 0, loc)
                t = _add(t, 3600)
                if t.hour == 0:
                    wrapped = True
                    break
            if wrapped:
                continue
            while not (1 << t.minute) & self.minute:
                if not added:
                    added = True
                    t = _truncate(t, 60)
                t = _add(t, 60)
                if t.minute == 0:
                    wrapped = True
                    break
            if wrapped:
                continue
            # seconds: the standard parser always uses second 0; reaching it re-checks all
            if t.second != 0:
                added = True
                t = _add(t, 60 - t.second)
                continue
            return t.astimezone(UTC)

    def _day_matches(self, t: datetime) -> bool:
        dom_match = bool((1 << t.day) & self.dom)
        dow_match = bool((1 << ((t.weekday() + 1) % 7)) & self.dow)
        if self.dom & STAR_BIT or self.dow & STAR_BIT:
            return dom_match and dow_match
        return dom_match or dow_match


def _norm(t: datetime, loc: tzinfo) -> datetime:
    """Resolve a wall time the way Go's time.Date does (times in a DST gap move forward)."""
    return t.astimezone(UTC).astimezone(loc)


def _date(year: int, month: int, day: int, hour: int, minute: int, second: int, loc: tzinfo) -> datetime:
    return _norm(datetime(year, month, day, hour, minute, second, tzinfo=loc), loc)


def _add(t: datetime, seconds: int) -> datetime:
    """Absolute-time addition (Go's Time.Add), result shown in t's zone."""
    loc = t.tzinfo
    assert loc is not None
    return (t.astimezone(UTC) + timedelta(seconds=seconds)).astimezone(loc)


def _add_date(t: datetime, *, months: int = 0, days: int = 0) -> datetime:
    """Go's Time.AddDate: calendar arithmetic in t's zone with overflow normalised."""
    loc = t.tzinfo
    assert loc is not None
    y, m = divmod(t.month - 1 + months, 12)
    first = datetime(t.year + y, m + 1, 1)
    wall = first + timedelta(days=t.day - 1 + days)
    return _date(wall.year, wall.month, wall.day, t.hour, t.minute, t.second, loc)


def _truncate(t: datetime, seconds: int) -> datetime:
    loc = t.tzinfo
    assert loc is not None
    epoch = int(t.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=UTC).astimezone(loc)


@lru_cache(maxsize=1024)
def parse(spec: str, tz: str | None = None) -> Schedule:
    """Parse a standard spec (robfig's ParseStandard); ``tz`` is CronJob ``spec.timeZone``
    (applied as the ``TZ=`` prefix upstream adds). Raises CronError with robfig's message."""
    text = f"TZ={tz} {spec}" if tz else spec
    err = parse_standard_error(text)
    if err:
        raise CronError(err)
    loc: tzinfo = UTC
    if text.startswith(("TZ=", "CRON_TZ=")):
        head, _, text = text.partition(" ")
        loc = location(head.partition("=")[2])
        text = text.strip()
    if text.startswith("@every "):
        delay = max(_go_duration(text[len("@every "):]), 1.0)
        return Schedule(0, 0, 0, 0, 0, loc, every=float(int(delay)))
    text = _DESCRIPTORS.get(text, text)
    fields = text.split()
    minute, hour, dom, month, dow = (_field(f, b) for f, b in zip(fields, _FIELDS))
    return Schedule(minute, hour, dom, month, dow, loc)
