"""WeChat mini-program sign-in against a local fake of WeChat's endpoints (no network).

The fake checks what the real endpoints check (app id and secret, the access token) and
answers the way they answer, errcodes included; the blueprint points ``members.wechat.endpoint``
at it.
"""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from components.members.models import Member
from core.testing import serve_app

APP_ID, SECRET = "wx0123456789abcdef", "fake-wechat-app-secret"
SESSIONS = {
    "code-A": {"openid": "o-A", "session_key": "k", "unionid": "u-A"},
    "code-B": {"openid": "o-B", "session_key": "k"},
    "code-C": {"openid": "o-C", "session_key": "k", "unionid": "u-C"},
    "used": {"errcode": 40163, "errmsg": "code been used"},
}
PHONES = {"phone-A": "13912345678", "phone-taken": "13800000001"}


class FakeWeChat:
    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.app = Starlette(routes=[
            Route("/sns/jscode2session", self.session),
            Route("/cgi-bin/token", self.token),
            Route("/wxa/business/getuserphonenumber", self.phone, methods=["POST"]),
        ])

    async def session(self, request: Request):  # noqa: ANN201
        self.calls["jscode2session"] += 1
        q = request.query_params
        if (q.get("appid"), q.get("secret"), q.get("grant_type")) != (APP_ID, SECRET, "authorization_code"):
            return JSONResponse({"errcode": 40125, "errmsg": "invalid appsecret"})
        if q.get("js_code") == "boom":
            return PlainTextResponse("<html>502 Bad Gateway</html>", status_code=502)
        return JSONResponse(SESSIONS.get(q.get("js_code"), {"errcode": 40029, "errmsg": "invalid code"}))

    async def token(self, request: Request):  # noqa: ANN201
        self.calls["token"] += 1
        q = request.query_params
        if (q.get("appid"), q.get("secret")) != (APP_ID, SECRET):
            return JSONResponse({"errcode": 40125, "errmsg": "invalid appsecret"})
        return JSONResponse({"access_token": "AT-1", "expires_in": 7200})

    async def phone(self, request: Request):  # noqa: ANN201
        self.calls["getuserphonenumber"] += 1
        if request.query_params.get("access_token") != "AT-1":
            return JSONResponse({"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"})
        code = (await request.json()).get("code")
        if code not in PHONES:
            return JSONResponse({"errcode": 40029, "errmsg": "invalid code"})
        return JSONResponse({"errcode": 0, "errmsg": "ok", "phone_info": {
            "phoneNumber": PHONES[code], "purePhoneNumber": PHONES[code], "countryCode": "86"}})


BRAND = """\
dougong: 1
brand: {slug: tea, name: Tea, currency: CNY, timezone: Asia/Shanghai}
components:
  members:
    wechat: {app_id: %s, app_secret: %s, endpoint: "%s", timeout_seconds: 5}
"""
SIGN_IN = """mutation($c: String!) { signIn(input: {provider: "wechat", credential: $c}) {
  token member { id phone sourceChannel } userErrors { code field } } }"""
BIND = "mutation($c: String!) { bindWeChatPhone(input: {code: $c}) { member { id phone } userErrors { code field } } }"


@pytest.fixture
async def wechat_kernel(kernel_factory):
    fake = FakeWeChat()
    async with serve_app(fake.app) as base:
        kernel = await kernel_factory(BRAND % (APP_ID, SECRET, base))
        async with kernel.transaction() as tx:
            await kernel.service("members").create_member(tx, phone="13800000001", nickname="in-store")
            known = await kernel.service("members").create_member(tx, phone="13800000003", nickname="from the app")
            (await tx.session.get(Member, known)).union_id = "u-C"  # registered through the brand's app
        yield kernel, fake


async def rows(kernel) -> list[tuple]:  # noqa: ANN001
    async with kernel.db.read() as session:
        return [tuple(r) for r in (await session.execute(
            select(Member.id, Member.open_id, Member.union_id, Member.phone).order_by(Member.id))).all()]


async def test_a_login_code_signs_in_the_same_member_every_time(wechat_kernel, graphql):
    kernel, fake = wechat_kernel
    first = await graphql(kernel).mutate(SIGN_IN, c="code-A")
    assert first["userErrors"] == [] and first["token"] and first["member"]["sourceChannel"] == "wechat_mini_program"
    again = await graphql(kernel).mutate(SIGN_IN, c="code-A")
    assert again["member"]["id"] == first["member"]["id"]
    second = await graphql(kernel).mutate(SIGN_IN, c="code-B")
    assert second["member"]["id"] != first["member"]["id"]
    assert (await rows(kernel))[2:] == [(3, "o-A", "u-A", None), (4, "o-B", None, None)]
    # The token works: the member is themself.
    client = graphql(kernel)
    client._token = first["token"]
    assert (await client.data("{ me { id } }"))["me"]["id"] == first["member"]["id"]


async def test_a_unionid_known_from_another_app_is_the_same_member(wechat_kernel, graphql):
    kernel, _ = wechat_kernel
    signed = await graphql(kernel).mutate(SIGN_IN, c="code-C")
    assert signed["userErrors"] == [] and signed["member"]["phone"] == "13800000003"
    assert (await rows(kernel))[1] == (2, "o-C", "u-C", "13800000003") and len(await rows(kernel)) == 2


@pytest.mark.parametrize(("code", "error"), [("used", "MEMBERS_SIGN_IN_REJECTED"), ("forged", "MEMBERS_SIGN_IN_REJECTED"),
                                             ("boom", "MEMBERS_WECHAT_UNAVAILABLE"), ("", "MEMBERS_SIGN_IN_REJECTED")])
async def test_refused_or_failed_exchanges_are_typed_and_create_nobody(wechat_kernel, graphql, code, error):
    kernel, _ = wechat_kernel
    before = await rows(kernel)
    refused = await graphql(kernel).mutate(SIGN_IN, c=code)
    assert [e["code"] for e in refused["userErrors"]] == [error] and refused["token"] is None
    assert await rows(kernel) == before


async def test_a_member_binds_the_phone_wechat_vouches_for(wechat_kernel, graphql):
    kernel, fake = wechat_kernel
    signed = await graphql(kernel).mutate(SIGN_IN, c="code-A")
    member = graphql(kernel)
    member._token = signed["token"]
    bound = await member.mutate(BIND, c="phone-A")
    assert bound["userErrors"] == [] and bound["member"]["phone"] == "13912345678"
    # Another member's number is not taken over; a bad code is a typed refusal; nothing changes.
    taken = await member.mutate(BIND, c="phone-taken")
    assert taken["userErrors"] == [{"code": "MEMBERS_PHONE_TAKEN", "field": "input.code"}]
    assert [e["code"] for e in (await member.mutate(BIND, c="nonsense"))["userErrors"]] == ["MEMBERS_WECHAT_REJECTED"]
    assert (await rows(kernel))[2] == (3, "o-A", "u-A", "13912345678")
    assert fake.calls["token"] == 1  # the app's access token is reused, not fetched per call
    anonymous = await graphql(kernel).mutate(BIND, c="phone-A")
    assert [e["code"] for e in anonymous["userErrors"]] == ["KERNEL_UNAUTHENTICATED"]


async def test_without_settings_there_is_no_wechat_provider(kernel_factory, graphql):
    kernel = await kernel_factory("dougong: 1\nbrand: {slug: t, name: T, currency: CNY, timezone: Asia/Shanghai}\n"
                                  "components:\n  members: {}\n")
    refused = await graphql(kernel).mutate(SIGN_IN, c="code-A")
    assert refused["userErrors"] == [{"code": "MEMBERS_UNKNOWN_PROVIDER", "field": "input.provider"}]
