"""Brands never share a database by accident, and tokens never cross between them.

Two blueprints that both fall back to an exported ``DATABASE_URL`` would read each other's data;
the server refuses to start and names both blueprints and the database. The supported way to
point several brands at one setting is to name each brand's database in its blueprint
(``database: ${DATABASE_URL}/maple``); served together, neither sees the other.
"""

from __future__ import annotations

import httpx
import pytest
from typer.testing import CliRunner

import core.cli
from core.app import create_app
from core.errors import BootError
from core.kernel import Kernel
from core.testing import member

BRAND = """\
dougong: 1
brand: {{slug: {slug}, name: {slug}, currency: CNY, timezone: Asia/Shanghai}}
{storage}auth: {{dev_sign_in: true}}
components:
  catalog: {{}}
  members: {{}}
"""


def write(tmp_path, slug: str, storage: str = "") -> str:  # noqa: ANN001
    path = tmp_path / f"{slug}.yaml"
    path.write_text(BRAND.format(slug=slug, storage=storage))
    return str(path)


def test_serve_refuses_two_brands_on_one_database_naming_both(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'shared.db'}")
    maple, cafe = write(tmp_path, "maple"), write(tmp_path, "cafe")
    result = CliRunner().invoke(core.cli.app, ["serve", maple, cafe])
    assert result.exit_code == 1
    assert "refusing to start" in result.output and maple in result.output and cafe in result.output
    assert str(tmp_path / "shared.db") in result.output
    # The same rule holds for the app itself, and for one file reached by two spellings.
    kernels = [Kernel.from_file(maple), Kernel.from_file(cafe)]
    with pytest.raises(BootError, match="brands never share a database"):
        create_app(kernels)
    monkeypatch.delenv("DATABASE_URL")
    sub = tmp_path / "sub"
    sub.mkdir()
    same = [Kernel.from_file(write(tmp_path, "tea", "storage: {database: 'sqlite:///db/x.db'}\n")),
            Kernel.from_file(write(sub, "milk", "storage: {database: 'sqlite:///../db/x.db'}\n"))]
    with pytest.raises(BootError, match="both use the database"):
        create_app(same)


async def test_two_brands_named_from_one_database_url_setting_see_nothing_of_each_other(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "sqlite:///data")
    storage = "storage: {database: '${DATABASE_URL}/%s.db'}\n"
    kernels = [Kernel.from_file(write(tmp_path, slug, storage % slug)) for slug in ("maple", "cafe")]
    assert {str(k.db.url.database) for k in kernels} == {str(tmp_path / "data" / "maple.db"), str(tmp_path / "data" / "cafe.db")}
    for kernel in kernels:
        await kernel.start()
    maple, cafe = kernels
    try:
        async with maple.transaction() as tx:
            await maple.service("catalog").create_product(tx, title="Maple only", skus=[{"title": "1", "price_minor": 100}])
            await maple.service("members").create_member(tx, phone="13800000001")
        app = create_app(kernels, run_worker=False)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            async def titles(slug: str) -> list[str]:
                body = (await http.post(f"/brands/{slug}/graphql", json={"query": "{ products { nodes { title } } }"})).json()
                return [n["title"] for n in body["data"]["products"]["nodes"]]

            assert await titles("maple") == ["Maple only"] and await titles("cafe") == []
            token = maple.issue_token(member(1))
            headers = {"authorization": f"Bearer {token}"}
            mine = (await http.post("/brands/maple/graphql", json={"query": "{ me { id } }"}, headers=headers)).json()
            assert mine["data"]["me"] is not None
            refused = await http.post("/brands/cafe/graphql", json={"query": "{ me { id } }"}, headers=headers)
            assert refused.status_code == 401 and refused.json()["errors"][0]["extensions"]["reason"] == "TOKEN_OTHER_BRAND"
    finally:
        for kernel in kernels:
            await kernel.stop()


async def test_tokens_from_one_database_never_verify_on_another(kernel_factory):
    # The same development blueprint (no auth.secret) on two databases: two random secrets.
    blueprint = BRAND.format(slug="tea", storage="")
    first, second = await kernel_factory(blueprint), await kernel_factory(blueprint)
    for kernel in (first, second):
        async with kernel.transaction() as tx:
            await kernel.service("members").create_member(tx, phone="13800000001")
    assert first.signing_secret() != second.signing_secret() and len(first.signing_secret()) >= 48
    token = first.issue_token(member(1))
    assert first.tokens.decode(token) == member(1)
    from core.auth import TokenError

    with pytest.raises(TokenError) as refused:
        second.tokens.decode(token)
    assert refused.value.reason == "TOKEN_BAD_SIGNATURE"
    # Restarting on the same database keeps the secret (it lives in the database).
    again = Kernel.from_text(blueprint, database_url=str(first.db.url), clock=first.clock)
    await again.prepare()
    try:
        assert again.tokens.decode(token) == member(1)
    finally:
        await again.db.dispose()
