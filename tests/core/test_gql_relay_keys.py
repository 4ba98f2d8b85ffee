"""Global ids and cursors carry ASCII digits only: "¹" or "١٢" pass ``str.isdigit``."""

from __future__ import annotations

import pytest

from core.errors import DomainError
from core.gql.relay import decode_cursor, decode_id, encode_cursor, parse_key, to_global_id
from core.testing import member

SHOP = """\
dougong: 1
brand: {slug: shop, name: Shop, currency: CNY, timezone: Asia/Shanghai}
components:
  catalog: {}
"""


@pytest.mark.parametrize("text", ["", "¹", "١٢", "²³", "1²", "+1", "-1", " 1", "1.0", "1" * 19, "١"])
def test_parse_key_refuses_all_but_short_ascii_digits(text):
    assert parse_key(text) is None


def test_parse_key_reads_ascii_digits():
    assert parse_key("0") == 0 and parse_key("42") == 42 and parse_key("9" * 18) == 10**18 - 1


@pytest.mark.parametrize("pk", ["¹", "١٢", "1" * 19])
def test_decode_id_gives_a_typed_error_for_unicode_or_huge_digits(pk):
    with pytest.raises(DomainError) as refused:
        decode_id(to_global_id("Product", pk), "Product", field="input.productId")
    assert (refused.value.code, refused.value.field) == ("KERNEL_INVALID_ID", "input.productId")


@pytest.mark.parametrize("cursor", ["c:¹", "c:-²", "c:" + "9" * 30, "c:"])
def test_decode_cursor_refuses_unicode_digits_and_numbers_beyond_bigint(cursor):
    import base64

    encoded = base64.urlsafe_b64encode(cursor.encode()).decode().rstrip("=")
    with pytest.raises(DomainError) as refused:
        decode_cursor(encoded)
    assert refused.value.field == "after"


def test_cursors_round_trip_including_negative_keys():
    assert decode_cursor(encode_cursor(7)) == 7 and decode_cursor(encode_cursor(-7)) == -7


async def test_node_and_pages_answer_garbage_digits_without_internal_errors(kernel_factory, graphql):
    kernel = await kernel_factory(SHOP)
    client = graphql(kernel, member(1))
    import base64

    huge = base64.urlsafe_b64encode(b"c:" + b"9" * 30).decode().rstrip("=")
    body = await client.execute(
        "query($a: ID!, $b: ID!, $after: String) { a: node(id: $a) { id } b: node(id: $b) { id } "
        "products(after: $after) { edges { cursor } } }",
        {"a": to_global_id("Product", "¹"), "b": to_global_id("Product", "١"), "after": huge},
    )
    assert body["data"] is None or body["data"].get("a") is None
    codes = [e.get("extensions", {}).get("code") for e in body["errors"]]
    assert codes == ["KERNEL_INVALID_INPUT"], body
