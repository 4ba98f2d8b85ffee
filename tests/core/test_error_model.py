"""The one error model (README, "Errors: the three shapes and when each is used").

1. a business refusal of a mutation: ``userErrors { code field message detailList }``;
2. a field refused to this viewer: that field is null, and one ``errors[]`` entry carries its
   ``path`` and ``extensions.code`` (``KERNEL_UNAUTHENTICATED`` / ``KERNEL_FORBIDDEN``) — the
   rest of the page still comes;
3. a refused token: HTTP 401 with a GraphQL-shaped body (POST and GET alike) and a
   ``WWW-Authenticate`` header; the websocket's ``connection_init`` is closed with 4401 and the
   code (tests/core/test_websocket_tokens.py); the unexpected: ``KERNEL_INTERNAL`` (test_app.py).
"""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from core.app import create_app
from core.gql.payload import detail_list
from core.testing import member, staff

BLUEPRINT = "dougong: 1\nbrand: {slug: errs, name: Errs, currency: CNY, timezone: Asia/Shanghai}\ncomponents:\n  shop: {}\n"

SHOP = '''
    from typing import Annotated
    import strawberry
    from core.errors import DomainError
    from core.gql.payload import Payload, run_mutation
    from core.hookspecs import hookimpl

    @strawberry.type(description="A shop's day.")
    class Day:
        visitors: int = strawberry.field(description="Anyone may read it.")

        @strawberry.field(description="Staff with shop.report only; null for anyone else.")
        def revenue(self, info: strawberry.Info) -> int | None:
            info.context.require("shop.report")
            return 1200

    @strawberry.type(description="A member's own basket.")
    class Basket:
        lines: int = strawberry.field(description="How many lines.")

    @strawberry.type
    class Query:
        @strawberry.field(description="Today.")
        def today(self) -> Day:
            return Day(visitors=7)

        @strawberry.field(description="The caller's basket; null (with an error) unless signed in as a member.")
        def my_basket(self, info: strawberry.Info) -> Basket | None:
            info.context.require_member()
            return Basket(lines=2)

    @strawberry.input(description="What to buy.")
    class BuyInput:
        quantity: int = strawberry.field(description="How many.")

    @strawberry.type(description="The result of buy.")
    class BuyPayload(Payload):
        bought: int | None = strawberry.field(default=None, description="How many were bought.")

    @strawberry.type
    class Mutation:
        @strawberry.mutation(description="Buy.")
        async def buy(self, info: strawberry.Info, input: BuyInput) -> BuyPayload:
            async def work(tx):
                raise DomainError("SHOP_TOO_MANY", "At most 3.", field="input.quantity", limit=3, held=True, skus=[1, 2], reason="quota")
            result, errors = await run_mutation(info.context, work)
            return BuyPayload(user_errors=errors)

    @hookimpl
    def dougong_schema(registrar):
        registrar.query(Query)
        registrar.mutation(Mutation)

    @hookimpl
    def dougong_error_codes(registrar):
        registrar.error_code("SHOP_TOO_MANY", "The quantity is above the shop's limit; details carry limit.")

    @hookimpl
    def dougong_permissions(registrar):
        registrar.permission("shop.report", "read the day's revenue", roles=["store_clerk"])
'''


@pytest.fixture
async def shop(kernel_factory, make_component):
    return await kernel_factory(BLUEPRINT, installed=[make_component("shop", hooks=SHOP)])


async def test_a_business_refusal_is_a_user_error_with_typed_details(shop, graphql):
    payload = await graphql(shop, member(1)).mutate(
        "mutation { buy(input: {quantity: 9}) { bought userErrors { code field message details detailList { key value } } } }"
    )
    (error,) = payload["userErrors"]
    assert payload["bought"] is None
    assert error["code"] == "SHOP_TOO_MANY" and error["field"] == "input.quantity" and error["message"] == "At most 3."
    assert error["detailList"] == [
        {"key": "limit", "value": "3"},
        {"key": "held", "value": "true"},
        {"key": "skus", "value": "[1,2]"},
        {"key": "reason", "value": "quota"},
    ]
    assert error["details"] == {"limit": 3, "held": True, "skus": [1, 2], "reason": "quota"}  # the deprecated form, one release


def test_detail_values_read_as_text():
    assert detail_list(None) == [] and detail_list({}) == []
    pairs = [(d.key, d.value) for d in detail_list({"a": "x", "b": 0, "c": False, "d": None, "e": {"z": 1, "y": [2]}, "f": 1.5})]
    assert pairs == [("a", "x"), ("b", "0"), ("c", "false"), ("d", "null"), ("e", '{"y":[2],"z":1}'), ("f", "1.5")]


async def test_error_codes_and_user_error_fields_are_described(shop):
    schema = shop.schema._schema
    codes = schema.type_map["ErrorCode"].values
    assert codes["SHOP_TOO_MANY"].description == "The quantity is above the shop's limit; details carry limit."
    assert codes["KERNEL_FORBIDDEN"].description == "The caller lacks the permission or ownership this needs."
    user_error = schema.type_map["UserError"]
    assert all(f.description for f in user_error.fields.values())
    assert user_error.fields["details"].deprecation_reason == "Use detailList; removed in the next release."
    assert str(user_error.fields["detailList"].type) == "[UserErrorDetail!]!"
    for root in ("Query", "Mutation"):
        assert schema.type_map[root].description


async def test_a_field_refused_to_this_viewer_is_null_at_its_path_and_the_page_still_comes(shop, graphql):
    document = "{ today { visitors revenue } myBasket { lines } }"
    anonymous = await graphql(shop).execute(document)
    assert anonymous["data"] == {"today": {"visitors": 7, "revenue": None}, "myBasket": None}
    by_path = {tuple(e["path"]): e["extensions"]["code"] for e in anonymous["errors"]}
    assert by_path == {("today", "revenue"): "KERNEL_UNAUTHENTICATED", ("myBasket",): "KERNEL_UNAUTHENTICATED"}

    as_member = await graphql(shop, member(1)).execute(document)
    assert as_member["data"] == {"today": {"visitors": 7, "revenue": None}, "myBasket": {"lines": 2}}
    (error,) = as_member["errors"]
    assert error["path"] == ["today", "revenue"] and error["extensions"] == {"code": "KERNEL_FORBIDDEN"}
    assert "shop.report" in error["message"]

    as_clerk = await graphql(shop, staff(2, "store_clerk")).execute(document)
    assert as_clerk["data"]["today"] == {"visitors": 7, "revenue": 1200}
    assert [(e["path"], e["extensions"]["code"]) for e in as_clerk["errors"]] == [(["myBasket"], "KERNEL_FORBIDDEN")]


async def test_a_refused_token_is_a_graphql_shaped_401_on_post_and_get(shop, clock):
    app = create_app([shop], run_worker=False)
    expiring = shop.issue_token(member(1), timedelta(minutes=1))
    query = "{ today { visitors } }"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        fine = await http.get("/graphql", params={"query": query}, headers={"accept": "application/json", "authorization": f"Bearer {expiring}"})
        clock.advance(minutes=2)
        answers = []
        for token, reason in (("not.a.jwt", "TOKEN_MALFORMED"), (expiring, "TOKEN_EXPIRED")):
            headers = {"authorization": f"Bearer {token}"}
            answers.append((await http.post("/graphql", json={"query": query}, headers=headers), reason))
            answers.append((await http.get("/graphql", params={"query": query}, headers={**headers, "accept": "application/json"}), reason))
    assert fine.status_code == 200 and fine.json() == {"data": {"today": {"visitors": 7}}}
    for response, reason in answers:
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == f'Bearer error="invalid_token", error_description="{reason}"'
        body = response.json()
        assert set(body) == {"data", "errors"} and body["data"] is None and "detail" not in body
        (error,) = body["errors"]
        assert error["extensions"] == {"code": "KERNEL_UNAUTHENTICATED", "reason": reason} and error["message"]


async def test_a_refused_document_carries_a_code_too(shop, graphql):
    client = graphql(shop)
    for document in ("{ today { visitors }", "{ today { nope } }", "{ " + "a: today { visitors } " * 40 + "}"):
        body = await client.execute(document)
        assert body.get("data") is None and body["errors"], document
        assert {e["extensions"]["code"] for e in body["errors"]} == {"KERNEL_INVALID_DOCUMENT"}, document
