"""The example operations built-in components ship run cleanly on the demo blueprint's demo data."""

from __future__ import annotations

from pathlib import Path

from core.kernel import Kernel
from core.testing import staff

DEMO = Path(__file__).resolve().parents[2] / "blueprints" / "demo.yaml"


async def test_every_shipped_example_runs_without_errors_on_demo_data(tmp_path, graphql):
    kernel = Kernel.from_file(DEMO, database_url=f"sqlite+aiosqlite:///{tmp_path / 'demo.sqlite'}")
    await kernel.start(seed_demo=True)
    try:
        examples = kernel.contributions.examples
        assert {e.component for e in examples.values()} >= {"catalog", "live_room", "group_buy", "bidding_sale", "points_mall", "store_pickup"}
        client, admin = graphql(kernel), graphql(kernel, staff(1, "admin"))
        for title, example in examples.items():
            body = await client.execute(example.document, example.variables)
            if [e.get("extensions", {}).get("code") for e in body.get("errors") or []] == ["KERNEL_UNAUTHENTICATED"]:
                body = await admin.execute(example.document, example.variables)  # a staff screen's example (insights)
            assert not body.get("errors"), f"{title}: {body.get('errors')}"
            assert any(body["data"].values()), f"{title} found nothing in the demo data"
    finally:
        await kernel.stop()
