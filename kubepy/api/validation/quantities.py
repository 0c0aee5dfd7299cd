"""Just enough of resource.Quantity for validation: parse, compare, and print canonically.

Validation compares requests with limits, rejects negatives and fractional counts, and
quotes quantities in its messages the way upstream's ``Quantity.String()`` prints them
(``500m``, ``1Gi``, ``1k``). Values are exact ``Fraction``s, so comparisons never round.
Parsing is cached: the same few strings ("100m", "128Mi") recur on every write.
"""

from __future__ import annotations

import re
from fractions import Fraction
from functools import lru_cache
from typing import NamedTuple

_QUANTITY_RE = re.compile(
    r"^(?P<sign>[+-]?)(?P<num>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$"
)
_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_DECIMAL_BY_EXP = {v: k for k, v in _DECIMAL.items()}
_BINARY_BY_EXP = {v: k for k, v in _BINARY.items()}


class Quantity(NamedTuple):
    value: Fraction
    #: "BinarySI", "DecimalSI" or "DecimalExponent", as upstream keeps it for printing
    format: str


class QuantityError(ValueError):
    pass


@lru_cache(maxsize=4096)
def parse_quantity(text: str) -> Quantity:
    m = _QUANTITY_RE.match(text.strip()) if isinstance(text, str) else None
    if m is None:
        raise QuantityError("quantities must match the regular expression "
                            "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
    num = Fraction(m["num"])
    if m["sign"] == "-":
        num = -num
    suffix = m["suffix"] or ""
    if suffix in _BINARY:
        return Quantity(num * (1 << _BINARY[suffix]), "BinarySI")
    if suffix in _DECIMAL:
        return Quantity(num * Fraction(10) ** _DECIMAL[suffix], "DecimalSI")
    return Quantity(num * Fraction(10) ** int(suffix[1:]), "DecimalExponent")


def parse_value(raw: object) -> Quantity | None:
    """A JSON quantity (string or number) or None when it does not parse."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, (int, float)):
        raw = str(raw)
    if not isinstance(raw, str):
        return None
    try:
        return parse_quantity(raw)
    except QuantityError:
        return None


def _round_up_nano(value: Fraction) -> Fraction:
    # upstream keeps at most nano precision, rounding away from zero
    scaled = value * 1_000_000_000
    if scaled.denominator != 1:
        whole = -((-scaled.numerator) // scaled.denominator) if value > 0 else scaled.numerator // scaled.denominator
        return Fraction(whole, 1_000_000_000)
    return value


def canonical(q: Quantity) -> str:
    """Upstream's canonical String() of a quantity."""
    value = _round_up_nano(q.value)
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    mag = -value if value < 0 else value
    if q.format == "BinarySI" and mag.denominator == 1 and mag >= 1024:
        n = mag.numerator
        exp = 0
        while exp < 60 and n % 1024 == 0:
            n //= 1024
            exp += 10
        if exp:
            return f"{sign}{n}{_BINARY_BY_EXP[exp]}"
        # not a multiple of 1024: fall through to the decimal form
    # decimal: the largest multiple-of-3 exponent that leaves an integer mantissa
    exp = -9
    mantissa = mag * 1_000_000_000
    while exp < 18 and mantissa.denominator == 1 and mantissa.numerator % 1000 == 0:
        mantissa /= 1000
        exp += 3
    if mantissa.denominator != 1:  # cannot happen after nano rounding; be safe
        mantissa = Fraction(round(mantissa))
    if q.format == "DecimalExponent":
        return f"{sign}{mantissa.numerator}" + (f"e{exp}" if exp else "")
    return f"{sign}{mantissa.numerator}{_DECIMAL_BY_EXP[exp]}"


def canonical_text(raw: object) -> str:
    q = parse_value(raw)
    return canonical(q) if q is not None else str(raw)
