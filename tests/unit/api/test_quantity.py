"""Quantities parse and canonicalise exactly as upstream resource.Quantity does."""

from decimal import Decimal

import pytest

from kubepy.api.quantity import ERR_FORMAT, ERR_SUFFIX, canonicalize, parse, parse_quantity


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        pytest.param("0.5", "500m", id="a decimal fraction becomes milli units"),
        pytest.param("1000Mi", "1000Mi", id="binary SI that is not a power of 1024 stays"),
        pytest.param("1024Mi", "1Gi", id="binary SI moves up a suffix when exact"),
        pytest.param("1.5Gi", "1536Mi", id="fractional binary SI becomes the next smaller suffix"),
        pytest.param("0.5Ki", "512", id="binary SI below 1024 is printed as a plain number"),
        pytest.param("1e3", "1e3", id="the exponent format is preserved"),
        pytest.param("120e2", "12e3", id="exponents are lowered to a multiple of three"),
        pytest.param("1000m", "1", id="a whole number of milli units drops the suffix"),
        pytest.param("1000k", "1M", id="trailing zeros move into the suffix"),
        pytest.param("0.1m", "100u", id="sub-milli values use micro"),
        pytest.param("0.1n", "1n", id="values below a nano round up to one nano"),
        pytest.param("+1k", "+1k", id="upstream keeps already-canonical text verbatim"),
        pytest.param("8Ei", "9223372036854775807", id="binary SI is capped at the int64 maximum"),
        pytest.param("00", "0", id="zero is always 0"),
        pytest.param("-1Ki", "-1Ki", id="negative binary values keep their suffix"),
    ],
)
def test_canonical_form(text, canonical):
    assert canonicalize(text) == canonical


@pytest.mark.parametrize(
    ("text", "value"),
    [
        pytest.param("500m", Decimal("0.5"), id="milli"),
        pytest.param("1Gi", Decimal(2**30), id="gibi"),
        pytest.param("2.5e-3", Decimal("0.0025"), id="negative exponent"),
        pytest.param("1.5", Decimal("1.5"), id="plain decimal"),
    ],
)
def test_parse_quantity_value(text, value):
    assert parse_quantity(text) == value


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("", ERR_FORMAT, id="empty string"),
        pytest.param("abc", ERR_FORMAT, id="letters only"),
        pytest.param("1.2.3", ERR_FORMAT, id="two decimal points"),
        pytest.param("1 ", ERR_FORMAT, id="trailing space"),
        pytest.param("1K", ERR_SUFFIX, id="capital K is not a suffix"),
        pytest.param("1e", ERR_SUFFIX, id="exponent without digits"),
        pytest.param("1Mi1", ERR_SUFFIX, id="digits after a binary suffix"),
    ],
)
def test_invalid_quantities_raise_upstream_messages(text, message):
    with pytest.raises(ValueError) as exc:
        parse(text)
    assert str(exc.value) == message


def test_format_error_text_is_upstreams_regex_message():
    assert ERR_FORMAT == (
        "quantities must match the regular expression "
        "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
    )


@pytest.mark.parametrize(
    ("text", "rounded"),
    [
        pytest.param("0.1m", "1m", id="sub-milli rounds up to one milli"),
        pytest.param("1.0001", "1001m", id="rounding goes up, not to nearest"),
        pytest.param("250m", "250m", id="milli values are unchanged"),
        pytest.param("1Gi", "1Gi", id="binary values are unchanged"),
    ],
)
def test_round_up_to_milli(text, rounded):
    assert str(parse(text).round_up(-3)) == rounded
