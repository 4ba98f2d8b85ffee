"""The runtime CLI commands on the real built-in components."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

import core.cli

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "blueprints" / "demo.yaml"


def run(*args: str):
    return CliRunner().invoke(core.cli.app, list(args), catch_exceptions=False)


def test_components_lists_builtins_with_hooks_and_blueprints(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = run("components", "--json")
    assert result.exit_code == 0
    rows = {row["name"]: row for row in json.loads(result.output)}
    assert {"catalog", "inventory", "members", "orders"} <= set(rows)
    orders = rows["orders"]
    assert orders["distribution"] == "dougong"
    assert set(orders["depends"]) == {"catalog", "inventory", "members"}
    assert "dougong_jobs" in orders["hooks"] and "dougong_checkout" in orders["hooks"] and "dougong_identity_provider" not in orders["hooks"]
    assert "demo.yaml" in orders["blueprints"]
    # Declared events: who emits each, who handles it.
    assert {"order.paid", "order.refunded", "order.created"} <= set(orders["emits"]) and orders["handles"] == []
    assert "order.paid" in rows["group_buy"]["handles"] and "group_buy.succeeded" in rows["group_buy"]["emits"]
    table = run("components")
    assert table.exit_code == 0 and "orders" in table.output


def test_schema_prints_the_blueprint_sdl(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    result = run("schema", str(DEMO))
    assert result.exit_code == 0
    assert "type Query {" in result.output and "createOrder(" in result.output and "): OrderPayload!" in result.output
    assert result.output.strip() == (ROOT / "tests" / "blueprints" / "snapshots" / "demo.graphql").read_text().strip()


def test_token_for_member_and_staff_who_exist(monkeypatch, tmp_path):
    import asyncio

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    from core.kernel import Kernel

    kernel = Kernel.from_file(DEMO)
    asyncio.run(kernel.prepare())
    # Nobody exists yet: no token, for the member or for the staff id.
    for args in (("--member", "3"), ("--staff", "2", "--role", "admin")):
        refused = CliRunner().invoke(core.cli.app, ["token", str(DEMO), *args])
        assert refused.exit_code == 1 and "TOKEN_UNKNOWN_SUBJECT" in refused.output, refused.output
    asyncio.run(kernel.seed_demo())
    asyncio.run(kernel.db.dispose())
    member_token = run("token", str(DEMO), "--member", "3").output.strip()
    assert kernel.tokens.decode(member_token).id == 3
    # Staff 2 is a clerk of store 1 in the database: asking for admin does not make them one.
    clerk = run("token", str(DEMO), "--staff", "2", "--role", "admin").output.strip()
    actor = kernel.tokens.decode(clerk)
    assert actor.roles == frozenset({"store_clerk"}) and actor.store_ids == frozenset({1})
    assert run("token", str(DEMO)).exit_code == 2
    assert run("token", str(DEMO), "--staff", "1", "--role", "janitor").exit_code == 2


def test_validate_the_real_demo_blueprint():
    result = run("validate", str(DEMO))
    assert result.exit_code == 0 and "ok (17 components: catalog, inventory, members, orders, group_buy, points_mall, bidding_sale, store_pickup, live_room, notifications, coupons, flash_sale, distribution, guide_attribution, member_tiers, member_tags, insights)" in result.output


def test_validate_flags_secrets_written_in_the_blueprint(tmp_path, monkeypatch):
    literal = tmp_path / "literal.yaml"
    literal.write_text(
        "dougong: 1\n"
        "brand: {slug: maple, name: Maple, currency: CNY, timezone: Asia/Shanghai}\n"
        "auth:\n"
        "  secret: a-secret-anyone-with-this-file-now-holds\n"
        "components:\n"
        "  store_pickup:\n"
        "    qr_secret: another-literal-signing-key-0123456789\n"
        "    pickup_window: 3d\n"
    )
    result = CliRunner().invoke(core.cli.app, ["validate", str(literal)])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if "a secret is written in the blueprint" in line]
    assert [line.split(": ")[0] for line in lines] == [f"{literal}:4:11", f"{literal}:7:16"], result.output
    assert "components.store_pickup.qr_secret" in lines[1] and "${" in lines[1]
    assert "a-secret-anyone" not in result.output and "another-literal" not in result.output  # never echoed

    from_env = tmp_path / "env.yaml"
    from_env.write_text(literal.read_text().replace("a-secret-anyone-with-this-file-now-holds", "${DOUGONG_SECRET}")
                        .replace("another-literal-signing-key-0123456789", "${QR_SECRET}"))
    monkeypatch.setenv("DOUGONG_SECRET", "x" * 40)
    monkeypatch.setenv("QR_SECRET", "y" * 40)
    assert CliRunner().invoke(core.cli.app, ["validate", str(from_env)]).exit_code == 0
