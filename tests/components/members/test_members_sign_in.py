"""Signing in: development sign-in (guarded by the blueprint), staff roles from the database,
and third-party identity providers through the ``dougong_identity_provider`` hook."""

from __future__ import annotations

from sqlalchemy import func, select

from components.members.models import Member
from core.auth import Actor
from core.gql.relay import to_global_id
from core.hookspecs import hookimpl

BRAND = "dougong: 1\nbrand: {slug: tea, name: Tea, currency: CNY, timezone: Asia/Shanghai}\n%scomponents:\n  members: {}\n"
DEV = BRAND % "auth: {dev_sign_in: true}\n"
SECRET = "a-production-secret-of-at-least-32-characters"
PRODUCTION = BRAND % f"production: true\nauth: {{dev_sign_in: true, secret: {SECRET}}}\n"

DEV_SIGN_IN = """mutation($input: SignInForDevelopmentInput!) { signInForDevelopment(input: $input) {
  token member { id nickname phone } staff { id name roles storeIds } userErrors { code field } } }"""
SIGN_IN = """mutation($p: String!, $c: String!) { signIn(input: {provider: $p, credential: $c}) {
  token member { id nickname } staff { id roles storeIds } userErrors { code field } } }"""
ME = "{ me { id nickname phone } staffMe { id name roles storeIds } }"


async def members_count(kernel) -> int:  # noqa: ANN001
    async with kernel.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(Member)))


def as_bearer(graphql, kernel, token):  # noqa: ANN001, ANN201
    """A client that sends ``token`` as the frontend would after signing in."""
    client = graphql(kernel)
    client._token = token  # the fixture's client takes a string or a callable
    return client


# -- development sign-in ---------------------------------------------------------------------------

async def test_dev_sign_in_by_phone_creates_the_member_once_and_the_token_works(kernel_factory, graphql):
    kernel = await kernel_factory(DEV)
    first = await graphql(kernel).mutate(DEV_SIGN_IN, input={"phone": "138 1234 5678"})
    assert first["userErrors"] == []
    assert first["member"]["phone"] == "13812345678"  # the member sees their own number in full
    assert first["staff"] is None

    me = await as_bearer(graphql, kernel, first["token"]).data(ME)
    assert me == {"me": {"id": first["member"]["id"], "nickname": "", "phone": "13812345678"}, "staffMe": None}

    again = await graphql(kernel).mutate(DEV_SIGN_IN, input={"phone": "13812345678"})
    assert again["member"]["id"] == first["member"]["id"]
    assert await members_count(kernel) == 1


async def test_dev_sign_in_by_member_id(kernel_factory, graphql):
    kernel = await kernel_factory(DEV, seed_demo=True)
    signed = await graphql(kernel).mutate(DEV_SIGN_IN, input={"memberId": to_global_id("Member", 3)})
    assert signed["member"] == {"id": to_global_id("Member", 3), "nickname": "林姐 Sister Lin", "phone": "13800000003"}
    assert kernel.tokens.decode(signed["token"]) == Actor("member", 3)
    missing = await graphql(kernel).mutate(DEV_SIGN_IN, input={"memberId": to_global_id("Member", 999)})
    assert missing["userErrors"] == [{"code": "KERNEL_NOT_FOUND", "field": "input.memberId"}] and missing["token"] is None
    wrong_type = await graphql(kernel).mutate(DEV_SIGN_IN, input={"memberId": to_global_id("Staff", 1)})
    assert wrong_type["userErrors"] == [{"code": "KERNEL_INVALID_ID", "field": "input.memberId"}]


async def test_dev_sign_in_needs_exactly_one_way_in(kernel_factory, graphql):
    kernel = await kernel_factory(DEV, seed_demo=True)
    for given in ({}, {"phone": "13812345678", "staffId": to_global_id("Staff", 2)}):
        bad = await graphql(kernel).mutate(DEV_SIGN_IN, input=given)
        assert bad["userErrors"] == [{"code": "KERNEL_INVALID_INPUT", "field": "input"}], given
    malformed = await graphql(kernel).mutate(DEV_SIGN_IN, input={"phone": "call me"})
    assert malformed["userErrors"] == [{"code": "MEMBERS_INVALID_PHONE", "field": "input.phone"}]
    assert await members_count(kernel) == 5  # the demo members only


async def test_dev_sign_in_is_off_unless_the_blueprint_turns_it_on(kernel_factory, graphql):
    for blueprint in (BRAND % "", BRAND % "auth: {dev_sign_in: false}\n", PRODUCTION):
        kernel = await kernel_factory(blueprint)
        for given in ({"phone": "13812345678"}, {"memberId": to_global_id("Member", 1)}, {"staffId": to_global_id("Staff", 1)}):
            payload = await graphql(kernel).mutate(DEV_SIGN_IN, input=given)
            assert payload == {"token": None, "member": None, "staff": None,
                               "userErrors": [{"code": "MEMBERS_SIGN_IN_DISABLED", "field": None}]}, (blueprint, given)
        assert await members_count(kernel) == 0  # nothing created


async def test_production_wins_even_if_the_flag_says_otherwise(kernel_factory):
    # The blueprint loader already folds production into dev_sign_in; the service checks both
    # so a future loader change cannot open an unauthenticated door.
    kernel = await kernel_factory(PRODUCTION)
    assert kernel.blueprint.production is True
    assert kernel.service("members").dev_sign_in_enabled() is False


async def test_staff_sign_in_takes_roles_and_stores_from_the_database(kernel_factory, graphql):
    kernel = await kernel_factory(DEV, seed_demo=True)
    clerk = await graphql(kernel).mutate(DEV_SIGN_IN, input={"staffId": to_global_id("Staff", 2)})
    assert clerk["userErrors"] == [] and clerk["member"] is None
    assert clerk["staff"] == {"id": to_global_id("Staff", 2), "name": "陈导购 Clerk Chen (store 1)",
                              "roles": ["store_clerk"], "storeIds": [1]}
    assert kernel.tokens.decode(clerk["token"]) == Actor("staff", 2, frozenset({"store_clerk"}), frozenset({1}))
    me = await as_bearer(graphql, kernel, clerk["token"]).data(ME)
    assert me == {"me": None, "staffMe": clerk["staff"]}

    host = await graphql(kernel).mutate(DEV_SIGN_IN, input={"staffId": to_global_id("Staff", 4)})
    assert host["staff"]["roles"] == ["live_host"] and host["staff"]["storeIds"] == []

    # A deactivated employee cannot sign in any more.
    from components.members.models import Staff

    async with kernel.transaction() as tx:
        (await tx.session.get(Staff, 3)).active = False
    gone = await graphql(kernel).mutate(DEV_SIGN_IN, input={"staffId": to_global_id("Staff", 3)})
    assert gone["userErrors"] == [{"code": "KERNEL_NOT_FOUND", "field": "input.staffId"}] and gone["token"] is None


# -- identity providers --------------------------------------------------------------------------

class FakeLogin:
    """Accepts ``ok:<openid>`` (finds or registers that member) and ``staff:<id>`` (claims to be
    an admin, to show that roles come from our table, not from the provider)."""

    async def authenticate(self, tx, credential: str):  # noqa: ANN001, ANN201
        members = tx.kernel.service("members")
        if credential.startswith("ok:"):
            open_id = credential[3:]
            found = await members.member_by_open_id(tx.session, open_id)
            if found is not None:
                return Actor("member", found.id)
            return Actor("member", await members.create_member(tx, open_id=open_id, nickname="微信用户", source_channel="wechat"))
        if credential.startswith("staff:"):
            return Actor("staff", int(credential[6:]), frozenset({"admin"}))
        if credential.startswith("ghost:"):
            return Actor("member", 999)
        return None


class FakeIdentityPlugin:
    @hookimpl
    def dougong_identity_provider(self, kernel, provider):  # noqa: ANN001, ANN201
        return FakeLogin() if provider == "fake" else None


async def test_sign_in_through_an_identity_provider(kernel_factory, graphql):
    kernel = await kernel_factory(BRAND % "")  # works with development sign-in off
    kernel.pm.register(FakeIdentityPlugin(), name="fake_identity")

    first = await graphql(kernel).mutate(SIGN_IN, p="fake", c="ok:o-123")
    assert first["userErrors"] == [] and first["member"]["nickname"] == "微信用户"
    me = await as_bearer(graphql, kernel, first["token"]).data(ME)
    assert me["me"]["id"] == first["member"]["id"]

    again = await graphql(kernel).mutate(SIGN_IN, p="fake", c="ok:o-123")
    assert again["member"]["id"] == first["member"]["id"]
    assert await members_count(kernel) == 1


async def test_a_provider_identifies_staff_but_the_database_decides_their_roles(kernel_factory, graphql):
    kernel = await kernel_factory(BRAND % "", seed_demo=True)
    kernel.pm.register(FakeIdentityPlugin(), name="fake_identity")
    clerk = await graphql(kernel).mutate(SIGN_IN, p="fake", c="staff:3")
    assert clerk["staff"] == {"id": to_global_id("Staff", 3), "roles": ["store_clerk"], "storeIds": [2]}
    assert kernel.tokens.decode(clerk["token"]).roles == frozenset({"store_clerk"})
    unknown = await graphql(kernel).mutate(SIGN_IN, p="fake", c="staff:77")
    assert unknown["userErrors"] == [{"code": "MEMBERS_SIGN_IN_REJECTED", "field": "input.credential"}]


async def test_rejected_credentials_and_unknown_providers(kernel_factory, graphql):
    kernel = await kernel_factory(BRAND % "")
    kernel.pm.register(FakeIdentityPlugin(), name="fake_identity")
    for provider, credential, code, field in [
        ("fake", "forged", "MEMBERS_SIGN_IN_REJECTED", "input.credential"),
        ("fake", "ghost:1", "MEMBERS_SIGN_IN_REJECTED", "input.credential"),  # a member we do not have
        ("wechat", "ok:o-1", "MEMBERS_UNKNOWN_PROVIDER", "input.provider"),
    ]:
        payload = await graphql(kernel).mutate(SIGN_IN, p=provider, c=credential)
        assert payload == {"token": None, "member": None, "staff": None,
                           "userErrors": [{"code": code, "field": field}]}, (provider, credential)
    assert await members_count(kernel) == 0


async def test_a_provider_shipped_as_a_component(kernel_factory, graphql, make_component):
    # The way a real WeChat login arrives: its own component, depending on members.
    wechat = make_component("wechat_login", depends={"members": ""}, hooks="""
        from core.auth import Actor
        from core.hookspecs import hookimpl

        class Login:
            async def authenticate(self, tx, credential):
                members = tx.kernel.service("members")
                found = await members.member_by_open_id(tx.session, credential)
                return Actor("member", found.id if found else await members.create_member(tx, open_id=credential))

        @hookimpl
        def dougong_identity_provider(kernel, provider):
            return Login() if provider == "wechat" else None
    """)
    kernel = await kernel_factory(BRAND % "" + "  wechat_login: {}\n", installed=[wechat])
    signed = await graphql(kernel).mutate(SIGN_IN, p="wechat", c="o-9")
    assert signed["userErrors"] == [] and kernel.tokens.decode(signed["token"]).is_member
