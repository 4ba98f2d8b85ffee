"""Abusive documents against the demo schema are refused before anything runs: a 1,000-alias
brute force of pickup codes or of the development sign-in, JSON batches, deep nesting and
oversized pages. What the limits let through (30 aliases) still meets the clerk's rate limit."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from components.members.models import Member
from components.store_pickup.models import Attempt
from core.gql.relay import to_global_id
from core.testing import staff

DEMO = (Path(__file__).resolve().parents[2] / "blueprints" / "demo.yaml").read_text()


async def count(kernel, model):
    async with kernel.db.read() as session:
        return await session.scalar(select(func.count()).select_from(model))


def aliased(field: str, args: str, n: int, selection: str) -> str:
    return "mutation { " + " ".join(f"a{i}: {field}({args % i}) {{ {selection} }}" for i in range(n)) + " }"


async def test_alias_brute_force_is_refused_before_execution(kernel_factory, graphql):
    kernel = await kernel_factory(DEMO, seed_demo=True)
    store = to_global_id("PickupStore", 1)
    clerk = graphql(kernel, staff(2, "store_clerk", stores=(1,)))
    members_before = await count(kernel, Member)

    codes = aliased("confirmPickup", 'input: {storeId: "%s", code: "%%08d"}' % store, 1000, "userErrors { code }")
    body = await clerk.execute(codes)
    # Refused by the token limit (5,000) before the alias limit (30) even looks: either way at parse time.
    assert body.get("data") is None and any(w in body["errors"][0]["message"].lower() for w in ("alias", "tokens"))
    assert await count(kernel, Attempt) == 0  # not one code was tried
    small = aliased("confirmPickup", 'input: {storeId: "%s", code: "%%08d"}' % store, 31, "userErrors { code }")
    body = await clerk.execute(small)  # under the token limit: the alias limit refuses it
    assert body.get("data") is None and "alias" in body["errors"][0]["message"].lower()
    assert await count(kernel, Attempt) == 0

    sign_ins = aliased("signInForDevelopment", 'input: {phone: "1399%07d"}', 1000, "token")
    body = await graphql(kernel).execute(sign_ins)
    assert body.get("data") is None and body["errors"]
    assert await count(kernel, Member) == members_before

    # Thirty aliases pass the document limits, and then the clerk's rate limit stops the guessing.
    thirty = await clerk.execute(aliased("confirmPickup", 'input: {storeId: "%s", code: "%%08d"}' % store, 30, "userErrors { code }"))
    outcomes = [thirty["data"][f"a{i}"]["userErrors"][0]["code"] for i in range(30)]
    assert outcomes[:10] == ["STORE_PICKUP_WRONG_CODE"] * 10
    assert set(outcomes[10:]) == {"STORE_PICKUP_RATE_LIMITED"}
    assert await count(kernel, Attempt) == 30  # every attempt is on record, refused ones too


async def test_batches_depth_and_page_sizes_are_refused(kernel_factory, graphql):
    kernel = await kernel_factory(DEMO, seed_demo=True)
    client = graphql(kernel)
    http = client._http
    batch = await http.post("/graphql", json=[{"query": "{ brand { name } }"}] * 50)
    assert batch.status_code == 400  # no JSON batching: it would multiply every other limit

    nested = "{ products(first: 1) { nodes { " + "skus { product { " * 8 + "id" + " } }" * 8 + " } } }"
    body = await client.execute(nested)
    assert body.get("data") is None and "depth" in body["errors"][0]["message"].lower()

    too_many = await client.execute("{ products(first: 101) { nodes { id } } }")
    assert too_many["data"] is None and too_many["errors"][0]["extensions"]["code"] == "KERNEL_INVALID_INPUT"
    negative = await client.execute("{ liveRooms(first: -1) { nodes { id } } }")
    assert negative["errors"][0]["extensions"]["code"] == "KERNEL_INVALID_INPUT"
    fine = await client.data("{ products(first: 100) { nodes { id } } }")
    assert 0 < len(fine["products"]["nodes"]) <= 100

    huge = "{ " + "brand { name } " * 3000 + "}"
    body = await client.execute(huge)
    assert body.get("data") is None and body["errors"]
