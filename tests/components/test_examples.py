"""The example operations built-in components ship run cleanly on the demo blueprint's demo data."""

from __future__ import annotations

from pathlib import Path

from core.kernel import Kernel
from core.testing import member, staff

DEMO = Path(__file__).resolve().parents[2] / "blueprints" / "demo.yaml"


async def test_every_shipped_example_runs_without_errors_on_demo_data(tmp_path, graphql):
    kernel = Kernel.from_file(DEMO, database_url=f"sqlite+aiosqlite:///{tmp_path / 'demo.sqlite'}")
    await kernel.start(seed_demo=True)
    try:
        examples = kernel.contributions.examples
        assert {e.component for e in examples.values()} >= {"catalog", "live_room", "group_buy", "bidding_sale", "points_mall", "store_pickup"}
        # Each example runs as the first caller it is meant for: a shopper, a staff screen's
        # (insights), or a signed-in member's (distribution's "my promoter status").
        callers = [graphql(kernel), graphql(kernel, staff(1, "admin")), graphql(kernel, member(1))]
        refused = {"KERNEL_UNAUTHENTICATED", "KERNEL_FORBIDDEN"}
        for title, example in examples.items():
            for caller in callers:
                body = await caller.execute(example.document, example.variables)
                codes = {e.get("extensions", {}).get("code") for e in body.get("errors") or []}
                if not (codes and codes <= refused):
                    break
            assert not body.get("errors"), f"{title}: {body.get('errors')}"
            assert any(body["data"].values()), f"{title} found nothing in the demo data"
    finally:
        await kernel.stop()
