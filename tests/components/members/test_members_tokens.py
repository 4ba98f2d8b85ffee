"""Bearer tokens through the real app: a refused token is HTTP 401 with a GraphQL-shaped body
(``extensions.code`` KERNEL_UNAUTHENTICATED and a ``reason`` code), never a silent fall-back to
anonymous (a frontend must learn at once that it has to sign in again)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import jwt

from core.app import create_app
from core.testing import member

SECRET = "one-secret-shared-by-two-brands-0123456789"


def brand(slug: str, extra: str = "") -> str:
    return (f"dougong: 1\nbrand: {{slug: {slug}, name: {slug}, currency: CNY, timezone: Asia/Shanghai}}\n"
            f"auth: {{dev_sign_in: true, secret: {SECRET}{extra}}}\ncomponents:\n  members: {{}}\n")


SIGN_IN = 'mutation { signInForDevelopment(input: {phone: "13812345678"}) { token member { id } } }'
ME = {"query": "{ me { id } }"}


async def post(app, path: str, token: str | None = None, *, header: str | None = None) -> httpx.Response:  # noqa: ANN001
    headers = {"authorization": header if header is not None else f"Bearer {token}"} if (token or header) else {}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        return await http.post(path, json=ME, headers=headers)


def refused(response: httpx.Response, reason: str) -> bool:
    body = response.json()
    assert set(body) == {"data", "errors"} and body["data"] is None, body
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "KERNEL_UNAUTHENTICATED", error
    # No decoder internals: PyJWT's own wording (segments, padding, algorithms) never leaks.
    assert not any(word in error["message"].lower() for word in ("segment", "padding", "algorithm", "decode")), error
    return response.status_code == 401 and error["extensions"]["reason"] == reason and response.headers["www-authenticate"].startswith("Bearer")


async def with_member(kernel) -> None:  # noqa: ANN001
    async with kernel.transaction() as tx:
        await kernel.service("members").create_member(tx, phone="13800000009")


async def test_a_token_expires_when_the_clock_passes_its_ttl(kernel_factory, graphql, clock):
    kernel = await kernel_factory(brand("tea", ", token_ttl: 1h"))
    app = create_app([kernel], run_worker=False)
    signed = await graphql(kernel).mutate(SIGN_IN)
    ok = await post(app, "/graphql", signed["token"])
    assert ok.status_code == 200 and ok.json()["data"]["me"] == signed["member"]

    clock.advance(minutes=59)
    assert (await post(app, "/graphql", signed["token"])).status_code == 200
    clock.advance(minutes=1, seconds=1)
    assert refused(await post(app, "/graphql", signed["token"]), "TOKEN_EXPIRED")


async def test_default_ttl_is_seven_days(kernel_factory, clock):
    kernel = await kernel_factory(brand("tea"))
    await with_member(kernel)
    app = create_app([kernel], run_worker=False)
    token = kernel.issue_token(member(1))
    clock.advance(days=6, hours=23)
    assert (await post(app, "/graphql", token)).status_code == 200
    clock.advance(hours=1)
    assert refused(await post(app, "/graphql", token), "TOKEN_EXPIRED")


async def test_a_token_of_another_brand_is_refused(kernel_factory, graphql):
    # Two brands in one process, even with one secret: the audience keeps their members apart.
    tea, cafe = await kernel_factory(brand("tea")), await kernel_factory(brand("cafe"))
    app = create_app([tea, cafe], run_worker=False)
    tea_token = (await graphql(tea).mutate(SIGN_IN))["token"]
    assert (await post(app, "/brands/tea/graphql", tea_token)).status_code == 200
    assert refused(await post(app, "/brands/cafe/graphql", tea_token), "TOKEN_OTHER_BRAND")


async def test_forged_and_malformed_tokens_are_refused_with_a_reason(kernel_factory, clock):
    kernel = await kernel_factory(brand("tea"))
    await with_member(kernel)
    app = create_app([kernel], run_worker=False)
    now = int(clock.now().timestamp())
    claims = {"iss": "dougong", "aud": "tea", "sub": "member:1", "iat": now, "exp": now + 3600}
    cases = [
        (jwt.encode(claims, "another-secret-that-is-long-enough-0000", algorithm="HS256"), "TOKEN_BAD_SIGNATURE"),
        (jwt.encode({**claims, "aud": "other"}, SECRET, algorithm="HS256"), "TOKEN_OTHER_BRAND"),
        (jwt.encode({**claims, "aud": "other"}, "another-secret-that-is-long-enough-0000", algorithm="HS256"), "TOKEN_OTHER_BRAND"),
        (jwt.encode(claims, None, algorithm="none"), "TOKEN_MALFORMED"),  # alg: none, unsigned
        (jwt.encode(claims, SECRET, algorithm="HS512"), "TOKEN_MALFORMED"),  # only HS256 is accepted
        (jwt.encode({k: v for k, v in claims.items() if k != "sub"}, SECRET, algorithm="HS256"), "TOKEN_MALFORMED"),
        (jwt.encode({**claims, "sub": "admin:1"}, SECRET, algorithm="HS256"), "TOKEN_MALFORMED"),
        (jwt.encode({**claims, "sub": "staff:1", "roles": ["Super User"]}, SECRET, algorithm="HS256"), "TOKEN_MALFORMED"),
        # Well formed and signed, but nobody by that id lives in this database.
        (jwt.encode({**claims, "sub": "member:99"}, SECRET, algorithm="HS256"), "TOKEN_UNKNOWN_SUBJECT"),
        (jwt.encode({**claims, "sub": "staff:1", "roles": ["admin"]}, SECRET, algorithm="HS256"), "TOKEN_UNKNOWN_SUBJECT"),
        ("not-a-jwt", "TOKEN_MALFORMED"),
    ]
    for token, reason in cases:
        assert refused(await post(app, "/graphql", token), reason), (token, reason)
    assert refused(await post(app, "/graphql", header="Basic dXNlcjpwYXNz"), "BAD_AUTHORIZATION_HEADER")
    # The well-formed twin of those tokens is accepted: the refusals are about the defects.
    assert (await post(app, "/graphql", jwt.encode(claims, SECRET, algorithm="HS256"))).status_code == 200


async def test_anonymous_requests_are_fine_and_see_no_one(kernel_factory):
    kernel = await kernel_factory(brand("tea"))
    app = create_app([kernel], run_worker=False)
    response = await post(app, "/graphql")
    assert response.status_code == 200 and response.json()["data"] == {"me": None}


async def test_the_graphql_fixture_client_sees_the_401_too(kernel_factory, graphql, clock):
    kernel = await kernel_factory(brand("tea"))
    await with_member(kernel)
    client = graphql(kernel)
    client._token = kernel.issue_token(member(1), timedelta(minutes=5))
    clock.advance(minutes=6)
    body = await client.execute("{ me { id } }")
    assert body["status"] == 401 and "expired" in body["errors"][0]["message"]
    assert body["errors"][0]["extensions"] == {"code": "KERNEL_UNAUTHENTICATED", "reason": "TOKEN_EXPIRED"}
