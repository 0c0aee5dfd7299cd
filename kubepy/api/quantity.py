"""Resource quantities (``500m``, ``1Gi``, ``1e3``): parsing and the canonical wire form.

Upstream's ``resource.Quantity`` keeps an exact decimal value plus the *format* the user
wrote it in (decimal SI, binary SI, or decimal exponent) and re-serialises it in a
canonical form of that format: ``0.5`` -> ``500m``, ``1024Mi`` -> ``1Gi``, ``1000Mi`` stays
``1000Mi``, ``12e3`` stays ``12e3``. ``kubectl get -o yaml`` shows that form, and the
Python client insists on strings, so the API server rewrites every quantity it stores.

Design: values are kept as exact ``Fraction``s (no float anywhere), rounded up to a
multiple of 1e-9 the way upstream does, and the canonical string is computed from the
value and format alone. Upstream also keeps the caller's original text in a few cases
where it is already canonical (``+1k`` stays ``+1k``); ``Quantity.cached`` mirrors that
so the stored string is byte-for-byte what kube-apiserver would store.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Literal

__all__ = [
    "ERR_FORMAT",
    "ERR_NUMERIC",
    "ERR_SUFFIX",
    "Format",
    "Quantity",
    "canonicalize",
    "parse",
    "parse_quantity",
]

Format = Literal["DecimalSI", "BinarySI", "DecimalExponent"]

ERR_FORMAT = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
ERR_NUMERIC = "unable to parse numeric part of quantity"
ERR_SUFFIX = "unable to parse quantity's suffix"

_DEC_SUFFIXES: dict[str, int] = {
    "n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18,
}
_DEC_BY_EXP: dict[int, str] = {v: k for k, v in _DEC_SUFFIXES.items()}
_BIN_SUFFIXES: dict[str, int] = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_BIN_BY_POWER: dict[int, str] = {0: "", 1: "Ki", 2: "Mi", 3: "Gi", 4: "Ti", 5: "Pi", 6: "Ei"}
_SUFFIX_CHARS = frozenset("eEinumkKMGTP")
_DIGITS = frozenset("0123456789")
_NANO = Fraction(1, 10**9)
_MAX_INT64 = 2**63 - 1
_MAX_INT64_FACTORS = 18


@dataclass(frozen=True, slots=True)
class Quantity:
    """An exact quantity: ``value`` (a multiple of 1e-9), its ``format``, and the
    caller's text when upstream would keep it verbatim (``cached``)."""

    value: Fraction
    format: Format
    cached: str | None = None

    def __str__(self) -> str:
        return self.cached if self.cached is not None else _canonical(self.value, self.format)

    def as_decimal(self) -> Decimal:
        return _to_decimal(self.value)

    def round_up(self, scale: int = -3) -> Quantity:
        """Round away from zero to a multiple of ``10**scale`` (upstream ``RoundUp``;
        defaulting rounds every ResourceList entry to milli-units)."""
        unit = Fraction(10) ** scale
        scaled = self.value / unit
        if scaled.denominator == 1:
            return self  # already representable: upstream keeps the cached text too
        mag = -((-abs(scaled.numerator)) // scaled.denominator)  # ceil(|x|)
        value = Fraction(mag if self.value > 0 else -mag) * unit
        return Quantity(value, self.format, None)


def _to_decimal(value: Fraction) -> Decimal:
    scaled = value * 10**9
    if scaled.denominator == 1:
        return Decimal(scaled.numerator).scaleb(-9)
    return Decimal(value.numerator) / Decimal(value.denominator)  # pragma: no cover - values are nano-exact


def _split(text: str) -> tuple[bool, str, str, str, str]:
    """Split like upstream ``parseQuantityString``: (positive, value, num, denom, suffix)."""
    positive = True
    pos = 0
    end = len(text)
    if pos < end and text[0] in "+-":
        positive = text[0] != "-"
        pos += 1
    while True:  # strip leading zeros
        if pos >= end:
            return positive, "0", "0", "", ""
        if text[pos] != "0":
            break
        pos += 1
    start = pos
    while pos < end and text[pos] in _DIGITS:
        pos += 1
    num = text[start:pos]
    if pos >= end:
        return positive, text, num or "0", "", ""
    if not num:
        num = "0"
    denom = ""
    if text[pos] == ".":
        pos += 1
        start = pos
        while pos < end and text[pos] in _DIGITS:
            pos += 1
        denom = text[start:pos]
        if pos >= end:
            return positive, text, num, denom, ""
    value = text[:pos]
    suffix_start = pos
    while pos < end and text[pos] in _SUFFIX_CHARS:
        pos += 1
    if pos < end and text[pos] in "+-":
        pos += 1
    while pos < end and text[pos] in _DIGITS:
        pos += 1
    if pos < end:
        raise ValueError(ERR_FORMAT)
    return positive, value, num, denom, text[suffix_start:]


def _interpret(suffix: str) -> tuple[int, int, Format]:
    """suffix -> (base, exponent, format); ValueError(ERR_SUFFIX) when unknown."""
    if suffix in _DEC_SUFFIXES:
        return 10, _DEC_SUFFIXES[suffix], "DecimalSI"
    if suffix in _BIN_SUFFIXES:
        return 2, _BIN_SUFFIXES[suffix], "BinarySI"
    if len(suffix) > 1 and suffix[0] in "eE":
        digits = suffix[1:]
        body = digits[1:] if digits[0] in "+-" else digits
        if body and all(c in _DIGITS for c in body):
            exp = int(digits)
            if -(2**63) <= exp < 2**63:
                return 10, exp, "DecimalExponent"
    raise ValueError(ERR_SUFFIX)


def parse(text: str) -> Quantity:
    """Parse a quantity string; ``ValueError`` carries upstream's message.

    Results are cached (quantities repeat endlessly: ``100m``, ``128Mi``); errors are not.
    """
    return _parse_cached(text)


@functools.lru_cache(maxsize=4096)
def _parse_cached(text: str) -> Quantity:
    if not text:
        raise ValueError(ERR_FORMAT)
    if text == "0":
        return Quantity(Fraction(0), "DecimalSI", "0")
    positive, value, num, denom, suffix = _split(text)
    base, exponent, fmt = _interpret(suffix)

    # Upstream's fast int64 path decides whether the caller's text is kept verbatim.
    cached: str | None = None
    if fmt == "BinarySI":
        precision = (15 - len(num) - int(exponent * 3 / 10) - 1) if not denom else -1
        scale = 0
        mantissa = 1 << exponent
    else:
        precision = _MAX_INT64_FACTORS - (len(num) + len(denom))
        scale = exponent
        mantissa = 1
    if precision >= 0:
        scale -= len(denom)
        if scale >= -9:
            shifted = num + denom
            ival = int(shifted)
            if ival * mantissa <= _MAX_INT64:
                if fmt == "BinarySI":
                    if exponent % 10 == 0 and ival & 0x07:
                        cached = text
                elif scale % 3 == 0 and not shifted.endswith("000") and shifted[0] != "0":
                    cached = text
                amount = Fraction(ival * mantissa) * Fraction(10) ** scale
                return Quantity(amount if positive else -amount, fmt, cached)

    try:
        amount = Fraction(Decimal(value.lstrip("+-") or "x"))
    except Exception:  # decimal.InvalidOperation and friends
        raise ValueError(ERR_NUMERIC) from None
    amount *= Fraction(10) ** exponent if base == 10 else Fraction(2) ** exponent
    if amount != 0:
        nanos = amount / _NANO
        amount = Fraction(-((-nanos.numerator) // nanos.denominator)) * _NANO  # round up
    if fmt == "BinarySI" and amount > _MAX_INT64:
        amount = Fraction(_MAX_INT64)
    if fmt == "BinarySI" and 0 < amount < 1:
        fmt = "DecimalSI"
    return Quantity(amount if positive else -amount, fmt, None)


def parse_quantity(text: str) -> Decimal:
    """The exact value of a quantity string (``"500m"`` -> ``Decimal("0.5")``)."""
    return parse(text).as_decimal()


def canonicalize(text: str) -> str:
    """The string upstream stores for a quantity (``"0.5"`` -> ``"500m"``)."""
    return str(parse(text))


def _canonical(value: Fraction, fmt: Format) -> str:
    if value == 0:
        return "0"
    if fmt == "BinarySI":
        if -1024 < value < 1024 or value.denominator != 1:
            fmt = "DecimalSI"
        else:
            n = value.numerator
            neg = n < 0
            n = -n if neg else n
            power = 0
            while n >= 1024 and n % 1024 == 0:
                n //= 1024
                power += 1
            return f"{'-' if neg else ''}{n}{_BIN_BY_POWER[power]}"
    # decimal: integer mantissa without trailing zeros, exponent lowered to a multiple of 3
    nanos = value * 10**9
    m = nanos.numerator  # exact: values are multiples of 1e-9
    exp = -9
    neg = m < 0
    m = -m if neg else m
    while m % 10 == 0:
        m //= 10
        exp += 1
    while exp % 3:
        m *= 10
        exp -= 1
    sign = "-" if neg else ""
    if fmt == "DecimalExponent":
        return f"{sign}{m}" if exp == 0 else f"{sign}{m}e{exp}"
    # upstream prints no suffix when the exponent has none (e.g. beyond E): keep that
    return f"{sign}{m}{_DEC_BY_EXP.get(exp, '')}"
