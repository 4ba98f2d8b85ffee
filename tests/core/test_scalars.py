"""The custom scalars' wire formats, as their descriptions (and docs/schema.md) state them."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from strawberry.exceptions import StrawberryInputCoercionError

from core.gql.money import MAX_MINOR
from core.gql.scalars import DATE, DATE_TIME, JS_SAFE_INTEGER, LONG_DESCRIPTION, SCALAR_OVERRIDES

SHANGHAI = timezone(timedelta(hours=8))
BRAND = "dougong: 1\nbrand: {slug: s, name: S, currency: CNY, timezone: Asia/Shanghai}\ncomponents:\n"


def test_date_time_goes_out_in_utc_with_its_offset():
    assert DATE_TIME.serialize(datetime(2026, 1, 5, 10, 0, tzinfo=SHANGHAI)) == "2026-01-05T02:00:00+00:00"
    assert DATE_TIME.serialize(datetime(2026, 1, 5, 2, 0, 0, 500)) == "2026-01-05T02:00:00.000500+00:00"  # naive from SQLite: UTC


def test_date_time_comes_in_as_an_aware_utc_instant():
    assert DATE_TIME.parse_value("2026-01-05T10:00:00+08:00") == datetime(2026, 1, 5, 2, 0, tzinfo=timezone.utc)
    assert DATE_TIME.parse_value("2026-01-05T02:00:00Z").tzinfo is not None
    with pytest.raises(ValueError, match="needs an offset"):  # 20:00 in Beijing must not become 20:00 UTC
        DATE_TIME.parse_value("2026-01-05T20:00:00")
    with pytest.raises(StrawberryInputCoercionError):
        DATE_TIME.parse_value("tomorrow")


def test_date_is_a_calendar_day():
    assert DATE.serialize(date(2026, 2, 28)) == "2026-02-28"
    assert DATE.parse_value("2026-02-28") == date(2026, 2, 28)


def test_long_is_a_json_number_exact_in_javascript_for_every_amount():
    assert MAX_MINOR < JS_SAFE_INTEGER  # the largest amount the schema accepts stays exact in a JS number
    assert "JSON number" in LONG_DESCRIPTION and "2^53" in LONG_DESCRIPTION


async def test_a_date_time_without_offset_is_refused_as_invalid_input(kernel_factory, graphql, make_component):
    hooks = """
        import datetime as dt
        import strawberry
        from core.hookspecs import hookimpl

        @strawberry.type
        class Query:
            @strawberry.field(description="The instant back, as the wire gives it.")
            def echo(self, at: dt.datetime) -> dt.datetime:
                return at

        @hookimpl
        def dougong_schema(registrar):
            registrar.query(Query)
    """
    kernel = await kernel_factory(BRAND + "  clock: {}\n", installed=[make_component("clock", hooks=hooks)])
    client = graphql(kernel)
    ok = await client.execute("query($at: DateTime!) { echo(at: $at) }", at="2026-01-05T20:00:00+08:00")
    assert ok == {"data": {"echo": "2026-01-05T12:00:00+00:00"}}
    naive = await client.execute("query($at: DateTime!) { echo(at: $at) }", at="2026-01-05T20:00:00")
    assert naive.get("data") is None and naive["errors"][0]["extensions"]["code"] == "KERNEL_INVALID_INPUT"
    assert "needs an offset" in naive["errors"][0]["message"]
    literal = await client.execute('{ echo(at: "2026-01-05T20:00:00") }')
    assert literal.get("data") is None and literal["errors"][0]["extensions"]["code"] == "KERNEL_INVALID_INPUT"
    assert "needs an offset" in literal["errors"][0]["message"]


async def test_every_custom_scalar_in_a_schema_says_its_wire_format(kernel_factory):
    kernel = await kernel_factory(BRAND + "  catalog: {}\n")
    schema = kernel.schema._schema
    assert len(SCALAR_OVERRIDES) == 3
    for name in ("Long", "DateTime", "JSON"):
        assert schema.type_map[name].description and "isoformat" not in schema.type_map[name].description, name
    assert schema.type_map["DateTime"].specified_by_url.startswith("https://datatracker.ietf.org/doc/html/rfc3339")
