"""A fresh brand, from an empty database to a live session and a clerk-verified pickup, using
only the command line and GraphQL — no Python, no demo data, no development staff sign-in.

``dougong migrate`` (run from another folder: the SQLite path is the blueprint's), ``dougong
staff add`` prints the first admin's one-time code; everything else is GraphQL against
``dougong serve``: the admin opens a store, lists a product and invites a host and a clerk (each
signs in with their own one-time code), the host goes live, a member buys for pickup, the clerk
hands it over.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx

from core.testing import serve_process

BLUEPRINT = """\
dougong: 1
brand: {slug: fresh, name: Fresh Tea, currency: CNY, timezone: Asia/Shanghai}
storage: {database: "sqlite:///var/fresh.db"}
auth: {dev_sign_in: true}     # members only: staff have no development sign-in here
components:
  store_pickup: {}
  live_room: {}
"""
CNY = lambda n: {"amountMinor": n, "currency": "CNY"}  # noqa: E731


def dougong(*args: str, cwd: Path) -> str:
    done = subprocess.run([sys.executable, "-m", "core.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


class Client:
    def __init__(self, http: httpx.AsyncClient, token: str | None = None) -> None:
        self.http, self.token = http, token

    async def __call__(self, document: str, **variables: Any) -> dict[str, Any]:
        headers = {"authorization": f"Bearer {self.token}"} if self.token else {}
        body = (await self.http.post("/graphql", json={"query": document, "variables": variables}, headers=headers)).json()
        assert not body.get("errors"), body
        payload = next(iter(body["data"].values()))
        assert not (isinstance(payload, dict) and payload.get("userErrors")), payload
        return payload

    async def signed_in_with(self, code: str) -> Client:
        signed = await self('mutation($c: String!) { signIn(input: {provider: "staff_code", credential: $c}) { token userErrors { code } } }', c=code)
        return Client(self.http, signed["token"])


async def test_a_fresh_brand_goes_live_with_only_the_cli_and_graphql(tmp_path):
    brand, elsewhere = tmp_path / "brand", tmp_path / "elsewhere"
    brand.mkdir()
    elsewhere.mkdir()
    blueprint = brand / "fresh.yaml"
    blueprint.write_text(BLUEPRINT)

    assert "at heads" in dougong("migrate", str(blueprint), cwd=elsewhere)
    assert (brand / "var" / "fresh.db").exists() and not (elsewhere / "var").exists()
    printed = dougong("staff", "add", str(blueprint), "--name", "Founder", "--phone", "13900000000", "--role", "admin", cwd=elsewhere)
    admin_code = re.search(r"^([A-Za-z0-9_-]{30,})$", printed, re.M).group(1)

    async with serve_process(blueprint) as base, httpx.AsyncClient(base_url=base, timeout=30) as http:
        anonymous = Client(http)
        admin = await anonymous.signed_in_with(admin_code)
        # One time: the same code does not sign anyone in twice.
        again = (await http.post("/graphql", json={"query": 'mutation($c: String!) { signIn(input: {provider: "staff_code", credential: $c}) { token userErrors { code } } }',
                                                   "variables": {"c": admin_code}})).json()["data"]["signIn"]
        assert again == {"token": None, "userErrors": [{"code": "MEMBERS_SIGN_IN_REJECTED"}]}

        store = (await admin("mutation { createPickupStore(input: {name: \"West Lake\", latitude: 30.25, longitude: 120.15}) { store { id } userErrors { code } } }"))["store"]["id"]
        product = (await admin("""mutation($input: CreateProductInput!) { createProduct(input: $input) {
            product { id skus { id } } userErrors { code } } }""", input={"title": "龙井 Longjing", "skus": [{"title": "50g", "price": CNY(9900)}]}))["product"]
        sku = product["skus"][0]["id"]
        await admin("mutation($s: ID!) { setStock(input: {skuId: $s, onHand: 20}) { available userErrors { code } } }", s=sku)
        invite = """mutation($input: InviteStaffInput!) { inviteStaff(input: $input) {
            staff { id roles storeIds } signInCode userErrors { code field } } }"""
        host_invite = await admin(invite, input={"name": "Host Mia", "roles": ["live_host"]})
        clerk_invite = await admin(invite, input={"name": "Clerk Chen", "roles": ["store_clerk"], "storeIds": [store]})
        assert clerk_invite["staff"]["roles"] == ["store_clerk"] and len(clerk_invite["staff"]["storeIds"]) == 1
        host = await anonymous.signed_in_with(host_invite["signInCode"])
        clerk = await anonymous.signed_in_with(clerk_invite["signInCode"])
        listed = await admin("{ staffMembers(first: 10) { nodes { name roles active } } }")
        assert [n["name"] for n in listed["nodes"]] == ["Founder", "Host Mia", "Clerk Chen"]

        now = datetime.now(timezone.utc)
        room = (await host("""mutation($input: CreateLiveRoomInput!) { createLiveRoom(input: $input) { room { id } userErrors { code } } }""",
                           input={"title": "Spring tea live", "scheduledStartAt": (now + timedelta(minutes=5)).isoformat(),
                                  "scheduledEndAt": (now + timedelta(hours=2)).isoformat(), "shelf": [{"productId": product["id"]}]}))["room"]["id"]
        await host("mutation($id: ID!) { startLiveRoom(input: {roomId: $id}) { userErrors { code } } }", id=room)

        signed = await anonymous('mutation { signInForDevelopment(input: {phone: "13812345678"}) { token userErrors { code } } }')
        shopper = Client(http, signed["token"])
        await shopper("mutation($id: ID!) { joinLiveRoom(input: {roomId: $id}) { userErrors { code } } }", id=room)
        bought = await shopper("""mutation($input: CheckoutPickupInput!) { checkoutPickup(input: $input) {
            order { id } pickup { id } userErrors { code } } }""", input={"storeId": store, "lines": [{"skuId": sku, "quantity": 1}]})
        payment = (await shopper("mutation($id: ID!) { payOrder(input: {orderId: $id}) { payment { id } userErrors { code } } }",
                                 id=bought["order"]["id"]))["payment"]["id"]
        await shopper("mutation($id: ID!) { sandboxSettlePayment(input: {paymentId: $id}) { order { status } userErrors { code } } }", id=payment)
        code = (await shopper("query($id: ID!) { pickupOrder(id: $id) { code state } }", id=bought["pickup"]["id"]))["code"]

        handed = await clerk("""mutation($s: ID!, $c: String!) { confirmPickup(input: {storeId: $s, code: $c}) {
            pickup { state } order { status } userErrors { code } } }""", s=store, c=code)
        assert handed["pickup"]["state"] == "PICKED_UP" and handed["order"]["status"] == "COMPLETED"
        live = await anonymous("query($id: ID!) { liveRoom(id: $id) { status } }", id=room)
        assert live["status"] == "LIVE"
