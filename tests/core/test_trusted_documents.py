"""Trusted documents: registered by hash, sent by hash; the allow-list refuses the rest."""

from __future__ import annotations

import json

import pytest

from core.gql.trusted import TrustedDocuments, UntrustedDocument, document_hash

SHOP = """\
dougong: 1
brand: {slug: shop, name: Shop, currency: CNY, timezone: Asia/Shanghai}
components:
  catalog: {}
"""

DOC = "{ brand { slug name } }"


def by_hash(digest: str) -> dict:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


async def post(graphql, kernel, body: dict) -> dict:
    client = graphql(kernel)
    response = await client._http.post("/graphql", json=body)
    assert response.status_code == 200
    return response.json()


async def test_a_document_registered_by_a_client_is_then_sent_by_hash(kernel_factory, graphql):
    kernel = await kernel_factory(SHOP)
    digest = document_hash(DOC)
    missing = await post(graphql, kernel, {"extensions": by_hash(digest)})
    assert missing["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    first = await post(graphql, kernel, {"query": DOC, "extensions": by_hash(digest)})
    assert first == {"data": {"brand": {"slug": "shop", "name": "Shop"}}}
    assert await post(graphql, kernel, {"extensions": by_hash(digest)}) == first
    # A hash that does not match its text registers nothing.
    lie = await post(graphql, kernel, {"query": "{ brand { currency } }", "extensions": by_hash("0" * 64)})
    assert lie["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_INVALID"
    assert kernel.trusted_documents.get("0" * 64) is None


async def test_the_allow_list_runs_only_registered_documents(kernel_factory, graphql, tmp_path, monkeypatch):
    manifest = tmp_path / "documents.json"
    manifest.write_text(json.dumps([DOC]))
    monkeypatch.setenv("DOUGONG_TRUSTED_DOCUMENTS", str(manifest))
    monkeypatch.setenv("DOUGONG_TRUSTED_ONLY", "1")
    kernel = await kernel_factory(SHOP)
    ok = await post(graphql, kernel, {"extensions": by_hash(document_hash(DOC))})
    assert ok["data"]["brand"]["slug"] == "shop"
    # The registered text itself may be sent too; anything else is refused before it runs.
    assert (await post(graphql, kernel, {"query": DOC}))["data"]["brand"]["slug"] == "shop"
    other = "{ brand { currency } }"
    for body in ({"query": other}, {"query": other, "extensions": by_hash(document_hash(other))}):
        refused = await post(graphql, kernel, body)
        assert refused["data"] is None and refused["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_ALLOWED"
    assert kernel.trusted_documents.get(document_hash(other)) is None


def test_a_manifest_entry_must_hash_to_its_key():
    with pytest.raises(ValueError):
        TrustedDocuments({"f" * 64: DOC})
    trusted = TrustedDocuments({document_hash(DOC): DOC})
    assert trusted.resolve(None, by_hash(document_hash(DOC).upper())) == DOC
    with pytest.raises(UntrustedDocument):
        trusted.resolve("{ brand { name } }", by_hash(document_hash(DOC)))
