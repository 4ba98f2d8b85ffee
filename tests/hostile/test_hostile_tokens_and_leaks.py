"""Issue 28: tokens are refused when they live too long, come from the future or name an id
that is not plain ASCII digits; production errors say nothing about the schema; a masked
phone cannot be peeled by searching parts of it; control characters are typed errors."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from hostile_helpers import codes, http_client, tracebacks

from core.app import create_app
from core.auth import ALGORITHM, ISSUER, Actor, TokenError, Tokens
from core.clock import MovableClock
from core.errors import DomainError
from core.gql.relay import decode_cursor, decode_id

SECRET = "s" * 40


def _tokens(ttl: timedelta = timedelta(days=7)) -> tuple[Tokens, MovableClock]:
    clock = MovableClock()
    return Tokens(SECRET, "brand", ttl, clock.now), clock


def _forge(clock: MovableClock, sub: str, *, iat_offset: float = 0, lifetime: timedelta = timedelta(hours=1), **extra) -> str:
    now = clock.now().timestamp()
    claims = {"iss": ISSUER, "aud": "brand", "sub": sub, "iat": int(now + iat_offset), "exp": int(now + lifetime.total_seconds()), **extra}
    return jwt.encode(claims, SECRET, algorithm=ALGORITHM)


def test_token_lifetime_iat_and_subject_are_checked():
    tokens, clock = _tokens()
    assert tokens.decode(_forge(clock, "member:12")) == Actor("member", 12)
    refused = [
        _forge(clock, "member:1", lifetime=timedelta(days=365 * 100)),  # 100 years
        _forge(clock, "member:1", lifetime=timedelta(days=31)),  # past the member limit
        _forge(clock, "staff:1", lifetime=timedelta(days=8), roles=["admin"]),  # past the staff limit
        _forge(clock, "member:1", iat_offset=3600),  # issued an hour from now
        _forge(clock, "member:１"),  # full-width digit
        _forge(clock, "member:¹"),
        _forge(clock, "member:" + "9" * 30),  # too large for the database
        _forge(clock, "member:0"),
        _forge(clock, "member:+1"),
        _forge(clock, "member: 1"),
        _forge(clock, "staff:1", roles=["admin"], stores=[True]),
    ]
    for token in refused:
        with pytest.raises(TokenError):
            tokens.decode(token)
    # A small clock skew is tolerated, and staff tokens are issued within their limit.
    assert tokens.decode(_forge(clock, "member:1", iat_offset=30)).id == 1
    long_staff = tokens.issue(Actor("staff", 3, frozenset({"admin"})), timedelta(days=90))
    claims = jwt.decode(long_staff, SECRET, algorithms=[ALGORITHM], audience="brand", options={"verify_exp": False, "verify_iat": False})
    assert claims["exp"] - claims["iat"] == timedelta(days=7).total_seconds()
    assert tokens.decode(long_staff).id == 3


def test_ids_and_cursors_of_any_text_are_typed_errors():
    import base64

    samples = ["\ud800", "\udfff" * 3, "\x00", "\uffff", "💥", "a" * 5000, base64.urlsafe_b64encode(b"\xff\xfe:1").decode(),
               base64.urlsafe_b64encode(b"c:\xff").decode(), base64.urlsafe_b64encode("c:１".encode()).decode()]
    for text in samples:
        with pytest.raises(DomainError) as refused:
            decode_cursor(text)
        assert refused.value.code == "KERNEL_INVALID_INPUT"
        with pytest.raises(DomainError) as refused:
            decode_id(text, "c")
        assert refused.value.code == "KERNEL_INVALID_ID"


PRODUCTION = """\
dougong: 1
brand: {slug: leaks, name: Leaks, currency: CNY, timezone: Asia/Shanghai}
production: %s
auth: {secret: "%s"}
components:
  bidding_sale: {}
"""


@pytest.mark.parametrize("production", [True, False])
async def test_schema_hints_only_outside_production(kernel_factory, production):
    kernel = await kernel_factory(PRODUCTION % ("true" if production else "false", SECRET))
    async with http_client(create_app([kernel], run_worker=False)) as http:
        body = (await http.post("/graphql", json={"query": "{ auctionLot { id } brnd { slug } }"})).json()
    messages = " ".join(e["message"] for e in body["errors"])
    assert "Cannot query field 'brnd'" in messages
    assert ("Did you mean" in messages) is not production


async def test_client_mistakes_in_documents_are_never_internal(kernel_factory, caplog):
    kernel = await kernel_factory(PRODUCTION % ("false", SECRET))
    async with kernel.transaction() as tx:  # tokens name people who exist (authority is read from the database)
        member_id = await kernel.service("members").create_member(tx, phone="13800000001")
    token = kernel.issue_token(Actor("member", member_id))
    lot = "QXVjdGlvbkxvdDox"
    documents = [
        # Long literals: too big, a float, a string — refused like variables of those values.
        'mutation { placeBid(input: {lotId: "%s", amount: {amountMinor: 99999999999999999999999, currency: "CNY"}}) { userErrors { code } } }' % lot,
        'mutation { placeBid(input: {lotId: "%s", amount: {amountMinor: 1.5, currency: "CNY"}}) { userErrors { code } } }' % lot,
        'mutation { placeBid(input: {lotId: "%s", amount: {amountMinor: "150", currency: "CNY"}}) { userErrors { code } } }' % lot,
        # NUL and other controls in a string literal.
        'mutation { placeBid(input: {lotId: "a\\u0000b", amount: {amountMinor: 150, currency: "CNY"}}) { userErrors { code } } }',
        '{ auctionLots(first: 1, after: "\\u0007") { edges { cursor } } }',
        '{ node(id: "\\u001f") { id } }',
    ]
    async with http_client(create_app([kernel], run_worker=False), token) as http:
        for document in documents:
            response = await http.post("/graphql", json={"query": document})
            assert response.status_code == 200, response.text
            body = response.json()
            assert body["errors"] and "KERNEL_INTERNAL" not in codes(body), (document, body)
            assert all("path" not in e for e in body["errors"]), body  # refused before anything ran
        nul = (await http.post("/graphql", json={"query": documents[3]})).json()
        assert codes(nul) == ["KERNEL_INVALID_INPUT"]
    assert not tracebacks(caplog.records)


MEMBERS = """\
dougong: 1
brand: {slug: phones, name: Phones, currency: CNY, timezone: Asia/Shanghai}
components:
  members: %s
"""
LIST = "query($s: String) { members(first: 10, search: $s) { edges { node { phone } } } }"


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_a_masked_phone_cannot_be_peeled_by_searching_parts(kernel_factory, database):
    kernel = await kernel_factory(MEMBERS % "{}", database=database)
    async with kernel.transaction() as tx:
        for phone in ("13800000004", "13912345678"):
            await kernel.service("members").create_member(tx, phone=phone)
        admin_id = await kernel.service("members").create_staff(tx, name="admin", roles=("admin",))
    admin = kernel.issue_token(Actor("staff", admin_id, frozenset({"admin"})))
    async with http_client(create_app([kernel], run_worker=False), admin) as http:
        async def found(search: str) -> list[str]:
            body = (await http.post("/graphql", json={"query": LIST, "variables": {"s": search}})).json()
            return [e["node"]["phone"] for e in body["data"]["members"]["edges"]]

        assert await found("138 0000 0004") == ["138****0004"]
        for part in ("0004", "1380", "00000", "138000000"):  # substrings and prefixes: nothing
            assert await found(part) == []


async def test_a_brand_may_allow_phone_prefixes_of_a_minimum_length(kernel_factory):
    kernel = await kernel_factory(MEMBERS % "{phone_search_min_digits: 7}")
    async with kernel.transaction() as tx:
        await kernel.service("members").create_member(tx, phone="13800000004")
    search = kernel.service("members").search
    async with kernel.db.read() as session:
        assert len((await session.scalars(search("1380000"))).all()) == 1
        assert (await session.scalars(search("138000"))).all() == []  # shorter than the minimum
        assert (await session.scalars(search("0000004"))).all() == []  # not a prefix
