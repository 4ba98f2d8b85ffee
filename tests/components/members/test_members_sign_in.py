"""Members: development sign-in, identity providers, tokens, privacy."""

from __future__ import annotations

from datetime import timedelta

import httpx
import jwt

from core.app import create_app
from core.testing import member, staff

BRAND = "dougong: 1\nbrand: {slug: tea, name: Tea, currency: CNY, timezone: Asia/Shanghai}\n%scomponents:\n  members: {}\n"
DEV = BRAND % "auth: {dev_sign_in: true}\n"
SIGN_IN = 'mutation($input: SignInForDevelopmentInput!) { signInForDevelopment(input: $input) { token member { id nickname phone } staff { name roles storeIds } userErrors { code field } } }'


async def test_dev_sign_in_creates_and_signs_in_the_member(kernel_factory, graphql):
    kernel = await kernel_factory(DEV)
    payload = await graphql(kernel).mutate(SIGN_IN, input={"phone": "13812345678"})
    assert payload["userErrors"] == [] and payload["member"]["phone"] == "13812345678"
    app = create_app([kernel], run_worker=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        me = await http.post("/graphql", json={"query": "{ me { id phone } }"}, headers={"authorization": f"Bearer {payload['token']}"})
    assert me.json()["data"]["me"] == {"id": payload["member"]["id"], "phone": "13812345678"}
    again = await graphql(kernel).mutate(SIGN_IN, input={"phone": "13812345678"})
    assert again["member"]["id"] == payload["member"]["id"]  # found, not created twice


async def test_dev_sign_in_is_off_unless_the_blueprint_turns_it_on(kernel_factory, graphql):
    kernel = await kernel_factory(BRAND % "")
    payload = await graphql(kernel).mutate(SIGN_IN, input={"phone": "13812345678"})
    assert payload == {"token": None, "member": None, "staff": None, "userErrors": [{"code": "MEMBERS_SIGN_IN_DISABLED", "field": None}]}
    async with kernel.db.read() as session:
        assert await kernel.service("members").member_by_phone(session, "13812345678") is None


async def test_staff_sign_in_takes_roles_from_the_database(kernel_factory, graphql):
    kernel = await kernel_factory(DEV, seed_demo=True)
    from core.gql.relay import to_global_id

    clerk = await graphql(kernel).mutate(SIGN_IN, input={"staffId": to_global_id("Staff", 2)})
    assert clerk["staff"] == {"name": "陈导购 Clerk Chen (store 1)", "roles": ["store_clerk"], "storeIds": [1]}
    assert kernel.tokens.decode(clerk["token"]).store_ids == frozenset({1})
    bad = await graphql(kernel).mutate(SIGN_IN, input={"phone": "13812345678", "staffId": to_global_id("Staff", 2)})
    assert bad["userErrors"] == [{"code": "KERNEL_INVALID_INPUT", "field": "input"}]


async def test_identity_provider_hook(kernel_factory, graphql, make_component):
    wechat = make_component("wechat_login", depends={"members": ""}, hooks="""
        from core.auth import Actor
        from core.hookspecs import hookimpl

        class FakeWeChat:
            async def authenticate(self, tx, credential):
                if not credential.startswith("ok:"):
                    return None
                members = tx.kernel.service("members")
                found = await members.member_by_open_id(tx.session, credential[3:])
                member_id = found.id if found else await members.create_member(tx, open_id=credential[3:], source_channel="wechat")
                return Actor("member", member_id)

        @hookimpl
        def dougong_identity_provider(kernel, provider):
            return FakeWeChat() if provider == "wechat" else None
    """)
    kernel = await kernel_factory(BRAND % "" + "  wechat_login: {}\n", installed=[wechat])
    doc = 'mutation($p: String!, $c: String!) { signIn(input: {provider: $p, credential: $c}) { token member { id } userErrors { code } } }'
    ok = await graphql(kernel).mutate(doc, p="wechat", c="ok:o-123")
    assert ok["token"] and ok["member"]["id"]
    assert kernel.tokens.decode(ok["token"]).is_member
    assert (await graphql(kernel).mutate(doc, p="wechat", c="forged"))["userErrors"] == [{"code": "MEMBERS_SIGN_IN_REJECTED"}]
    assert (await graphql(kernel).mutate(doc, p="alipay", c="ok:x"))["userErrors"] == [{"code": "MEMBERS_UNKNOWN_PROVIDER"}]


async def test_bad_tokens_are_refused_with_a_reason(kernel_factory, clock):
    kernel = await kernel_factory(DEV)
    app = create_app([kernel], run_worker=False)
    now = int(clock.now().timestamp())
    claims = {"iss": "dougong", "aud": "tea", "sub": "member:1", "iat": now, "exp": now + 3600}
    cases = {
        "expired": kernel.issue_token(member(1), timedelta(seconds=-1)),
        "signature": jwt.encode(claims, "another-secret-that-is-long-enough-000", algorithm="HS256"),
        "another brand": jwt.encode({**claims, "aud": "other"}, kernel.tokens._secret, algorithm="HS256"),
        "sub": jwt.encode({k: v for k, v in claims.items() if k != "sub"}, kernel.tokens._secret, algorithm="HS256"),
        "not valid": jwt.encode(claims, None, algorithm="none"),
    }
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        for reason, token in cases.items():
            response = await http.post("/graphql", json={"query": "{ me { id } }"}, headers={"authorization": f"Bearer {token}"})
            assert response.status_code == 401, reason
            assert reason in response.json()["detail"], (reason, response.json())


async def test_a_member_is_private_to_themself_and_staff(kernel_factory, graphql):
    kernel = await kernel_factory(DEV, seed_demo=True)
    from core.gql.relay import to_global_id

    query = "query($id: ID!) { node(id: $id) { ... on Member { nickname phone } } }"
    other = to_global_id("Member", 2)
    assert (await graphql(kernel, member(1)).data(query, id=other))["node"] is None
    assert (await graphql(kernel, member(2)).data(query, id=other))["node"]["phone"] == "13800000002"
    assert (await graphql(kernel, staff(1, "admin")).data(query, id=other))["node"]["phone"] == "138****0002"
    listing = await graphql(kernel, member(1)).execute("{ members { edges { node { id } } } }")
    assert listing["errors"][0]["extensions"]["code"] == "KERNEL_FORBIDDEN"
    assert len((await graphql(kernel, staff(1, "admin")).data("{ members { edges { node { id } } } }"))["members"]["edges"]) == 5
