"""The served app: one or many brands, health, metrics, limits, production mode."""

from __future__ import annotations

import httpx
import pytest

from core.app import create_app
from core.testing import member

HELLO = """
    import strawberry
    from core.hookspecs import hookimpl

    @strawberry.type
    class Child:
        depth: int
        @strawberry.field
        def child(self) -> "Child":
            return Child(depth=self.depth + 1)

    @strawberry.type
    class Query:
        @strawberry.field
        def hello(self, info: strawberry.Info) -> str:
            return f"hello {info.context.kernel.blueprint.brand.slug} {info.context.actor.kind}"
        @strawberry.field
        def tree(self) -> Child:
            return Child(depth=0)
        @strawberry.field
        def boom(self) -> str:
            raise RuntimeError("SELECT password FROM secrets")

    @hookimpl
    def dougong_schema(registrar):
        registrar.query(Query)
"""


def brand(slug: str, extra: str = "") -> str:
    return f"dougong: 1\nbrand: {{slug: {slug}, name: {slug}, currency: CNY, timezone: Asia/Shanghai}}\n{extra}components:\n  hello: {{}}\n"


@pytest.fixture
def hello(make_component):
    return make_component("hello", hooks=HELLO)


def client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def test_one_brand_at_graphql_with_health_and_metrics(kernel_factory, hello):
    kernel = await kernel_factory(brand("maple"), installed=[hello])
    app = create_app([kernel], run_worker=False)
    async with client(app) as http:
        response = await http.post("/graphql", json={"query": "{ hello brand { slug currency } }"})
        assert response.json()["data"] == {"hello": "hello maple anonymous", "brand": {"slug": "maple", "currency": "CNY"}}
        assert (await http.get("/healthz")).json() == {"status": "ok", "brands": {"maple": {"database": "ok", "broadcast": "ok"}}}
        metrics = (await http.get("/metrics")).text
        assert 'dougong_http_requests_total{brand="maple",path="graphql",status="200"} 1' in metrics
        assert 'dougong_db_statements_total{brand="maple"}' in metrics
        ide = await http.get("/graphql", headers={"accept": "text/html"})
        assert ide.status_code == 200 and "graphiql" in ide.text.lower()


async def test_several_brands_each_with_own_kernel(kernel_factory, hello):
    maple = await kernel_factory(brand("maple"), installed=[hello])
    lotus = await kernel_factory(brand("lotus"), installed=[hello])
    app = create_app([maple, lotus], run_worker=False)
    async with client(app) as http:
        for slug in ("maple", "lotus"):
            body = (await http.post(f"/brands/{slug}/graphql", json={"query": "{ hello }"})).json()
            assert body["data"] == {"hello": f"hello {slug} anonymous"}
        # A token is scoped to its brand: maple's token is refused by lotus.
        token = maple.issue_token(member(1))
        ok = await http.post("/brands/maple/graphql", json={"query": "{ hello }"}, headers={"authorization": f"Bearer {token}"})
        assert ok.json()["data"] == {"hello": "hello maple member"}
        refused = await http.post("/brands/lotus/graphql", json={"query": "{ hello }"}, headers={"authorization": f"Bearer {token}"})
        assert refused.status_code == 401
        assert "another brand" in refused.text or "signature" in refused.text
        assert maple.db.url != lotus.db.url


async def test_bad_authorization_header_is_refused_clearly(kernel_factory, hello):
    kernel = await kernel_factory(brand("maple"), installed=[hello])
    async with client(create_app([kernel], run_worker=False)) as http:
        for header in ("Basic abc", "Bearer", "Bearer not.a.jwt"):
            response = await http.post("/graphql", json={"query": "{ hello }"}, headers={"authorization": header})
            assert response.status_code == 401, header
            (error,) = response.json()["errors"]
            assert error["extensions"]["code"] == "KERNEL_UNAUTHENTICATED" and error["message"]
            assert error["extensions"]["reason"] in ("BAD_AUTHORIZATION_HEADER", "TOKEN_MALFORMED"), header


async def test_query_limits_refuse_abusive_documents(kernel_factory, hello):
    kernel = await kernel_factory(brand("maple"), installed=[hello])
    async with client(create_app([kernel], run_worker=False)) as http:
        deep = "{ tree { " + "child { " * 20 + "depth" + " }" * 20 + " } }"
        body = (await http.post("/graphql", json={"query": deep})).json()
        assert body.get("data") is None and "depth" in body["errors"][0]["message"].lower()

        aliases = "{ " + " ".join(f"a{i}: hello" for i in range(1000)) + " }"
        body = (await http.post("/graphql", json={"query": aliases})).json()
        assert body.get("data") is None and body["errors"]

        fine = (await http.post("/graphql", json={"query": "{ a: hello b: hello }"})).json()
        assert fine["data"] == {"a": "hello maple anonymous", "b": "hello maple anonymous"}


async def test_production_mode_closes_introspection_and_graphiql(kernel_factory, hello, monkeypatch):
    monkeypatch.setenv("BRAND_SECRET", "a-long-production-secret-value-of-40-chars")
    kernel = await kernel_factory(brand("maple", "production: true\nauth: {secret: '${BRAND_SECRET}'}\n"), installed=[hello])
    async with client(create_app([kernel], run_worker=False)) as http:
        body = (await http.post("/graphql", json={"query": "{ __schema { types { name } } }"})).json()
        assert body.get("data") is None and "introspection" in body["errors"][0]["message"].lower()
        ide = await http.get("/graphql", headers={"accept": "text/html"})
        assert ide.status_code != 200 or "graphiql" not in ide.text.lower()
        assert (await http.post("/graphql", json={"query": "{ hello }"})).json()["data"] == {"hello": "hello maple anonymous"}


async def test_production_without_secret_does_not_boot(kernel_factory, hello):
    from core.errors import BootError

    with pytest.raises(BootError, match="auth.secret"):
        await kernel_factory(brand("maple", "production: true\n"), installed=[hello])


async def test_unexpected_errors_reveal_no_internals(kernel_factory, hello):
    kernel = await kernel_factory(brand("maple"), installed=[hello])
    async with client(create_app([kernel], run_worker=False)) as http:
        body = (await http.post("/graphql", json={"query": "{ hello boom }"})).json()
    assert body["data"] is None or body["data"].get("hello") == "hello maple anonymous"
    assert body["errors"][0]["message"] == "Internal error; it has been logged."
    assert body["errors"][0]["extensions"]["code"] == "KERNEL_INTERNAL"
    assert "SELECT" not in str(body)
