"""Durations and money as written in blueprints, and the schema fragments components reuse."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

import core
from core.units import (
    CURRENCY_EXPONENT,
    DURATION_SCHEMA,
    MONEY_SCHEMA,
    format_duration,
    format_money,
    parse_duration,
    parse_money,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("30m", timedelta(minutes=30)),
        ("24h", timedelta(hours=24)),
        ("3d", timedelta(days=3)),
        ("2w", timedelta(weeks=2)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1w2d3h4m5s", timedelta(weeks=1, days=2, hours=3, minutes=4, seconds=5)),
        ("0h30m", timedelta(minutes=30)),
        (" 30m ", timedelta(minutes=30)),
    ],
)
def test_parse_duration(text: str, expected: timedelta):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "30", "m", "30 m", "1.5h", "30min", "30M", "-5m", "30m1h", "1h1h", "three days", "3d\n4h"])
def test_parse_duration_rejects_other_spellings_clearly(text: str):
    with pytest.raises(ValueError, match="is not a duration; write it like 30m, 24h, 3d or 1h30m"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["0s", "0m", "0h0m"])
def test_parse_duration_rejects_zero(text: str):
    with pytest.raises(ValueError, match="must be longer than zero"):
        parse_duration(text)


def test_parse_duration_rejects_absurd_lengths_as_value_errors():
    with pytest.raises(ValueError, match="too long"):
        parse_duration("99999999999w")


@pytest.mark.parametrize("text", ["45s", "30m", "1h30m", "1d", "2w", "1w1d1h1m1s"])
def test_format_duration_round_trips(text: str):
    assert format_duration(parse_duration(text)) == text


def test_format_duration_normalises():
    assert format_duration(timedelta(minutes=90)) == "1h30m"
    assert format_duration(timedelta(seconds=90)) == "1m30s"
    assert format_duration(timedelta(hours=48)) == "2d"
    assert format_duration(timedelta(0)) == "0s"


def test_known_currencies():
    assert {"CNY", "USD", "EUR", "HKD", "JPY", "GBP"} <= set(CURRENCY_EXPONENT)
    assert CURRENCY_EXPONENT["CNY"] == 2 and CURRENCY_EXPONENT["JPY"] == 0


def test_blueprint_schema_knows_the_same_currencies():
    schema = json.loads((Path(core.__file__).parent / "blueprint_schema.json").read_text())
    assert sorted(schema["properties"]["brand"]["properties"]["currency"]["enum"]) == sorted(CURRENCY_EXPONENT)


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [("99.00", "CNY", 9900), ("99", "CNY", 9900), ("0.5", "USD", 50), ("0.01", "EUR", 1), ("0", "HKD", 0),
     ("1200", "JPY", 1200), ("12.30", "GBP", 1230), (" 7.5 ", "CNY", 750), ("1200.00", "JPY", 1200)],
)
def test_parse_money(text: str, currency: str, minor: int):
    assert parse_money(text, currency) == minor


@pytest.mark.parametrize(
    ("text", "currency", "message"),
    [
        ("99.001", "CNY", "has more decimals than CNY allows (2)"),
        ("1200.5", "JPY", "has more decimals than JPY allows (0)"),
        ("ninety", "CNY", 'is not an amount; write it like "99.00"'),
        ("", "CNY", "is not an amount"),
        ("1e3", "CNY", "is not an amount"),
        ("NaN", "CNY", "is not an amount"),
        ("1,000.00", "CNY", "is not an amount"),
        ("-1.00", "CNY", "is negative"),
        ("1.00", "XYZ", "unknown currency 'XYZ'"),
    ],
)
def test_parse_money_rejects_with_a_clear_message(text: str, currency: str, message: str):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_money(text, currency)


@pytest.mark.parametrize("value", [99.0, 99, None])
def test_parse_money_takes_strings_only(value):
    with pytest.raises(ValueError, match="quoted decimal strings"):
        parse_money(value, "CNY")  # type: ignore[arg-type]


def test_format_money():
    assert format_money(9900, "CNY") == "99.00"
    assert format_money(5, "USD") == "0.05"
    assert format_money(-150, "CNY") == "-1.50"
    assert format_money(1200, "JPY") == "1200"
    assert parse_money(format_money(123456, "HKD"), "HKD") == 123456


def messages(schema: dict, value) -> list[str]:
    return [e.message for e in Draft202012Validator(schema).iter_errors(value)]


@pytest.mark.parametrize("good", ["90s", "30m", "24h", "3d", "2w", "1h30m", "0h30m"])
def test_duration_schema_accepts_what_parse_duration_accepts(good: str):
    assert messages(DURATION_SCHEMA, good) == []
    parse_duration(good)


@pytest.mark.parametrize("bad", ["soon", "30", "0m", "", "1.5h", "30 m", "m"])
def test_duration_schema_rejects_what_parse_duration_rejects(bad: str):
    assert messages(DURATION_SCHEMA, bad)
    with pytest.raises(ValueError):
        parse_duration(bad)


def test_duration_schema_rejects_numbers():
    assert messages(DURATION_SCHEMA, 30) == ["30 is not of type 'string'"]


@pytest.mark.parametrize("good", ["99.00", "99", "0.5", "0"])
def test_money_schema_accepts_decimal_strings(good: str):
    assert messages(MONEY_SCHEMA, good) == []


@pytest.mark.parametrize("bad", ["99.001", "-1", "1e3", "abc", 99.0])
def test_money_schema_rejects_the_rest(bad):
    assert messages(MONEY_SCHEMA, bad)
