"""Store and member codes, leaderboards, idle guides and report periods."""

from guide_helpers import TOUCH, admin, code_of, gid, guide

from core.testing import member

STORES = """\
dougong: 1
brand: {slug: gs, name: GS, currency: CNY, timezone: Asia/Shanghai}
components:
  guide_attribution: {}
  store_pickup: {}
"""
HOURS = {d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
BOARD = """query($m: GuideLeaderboardMetric!) { guideLeaderboard(holderKind: GUIDE, metric: $m, first: 5) {
  rank figures { holderId membersAdded } } }"""
IDLE = """query($from: Date, $to: Date) { idleGuides(from: $from, to: $to) { nodes { id } } }"""


async def test_store_and_member_codes_bind_and_reports_rank_and_list_idle_guides(kernel_factory, graphql):
    kernel = await kernel_factory(STORES)
    async with kernel.transaction() as tx:
        people = kernel.service("members")
        await people.create_staff(tx, name="admin", roles=("admin",))
        for i in range(6):
            await people.create_member(tx, phone=f"1390000{i:04d}", nickname=f"m{i + 1}")
        store = await kernel.service("store_pickup").create_store(tx, name="West Lake", latitude=30.25, longitude=120.15, hours=HOURS)
    wang, li, zhao = await guide(kernel), await guide(kernel), await guide(kernel)
    staff_client = graphql(kernel, admin())

    store_code = (await staff_client.data("query($s: ID!) { storeChannelCode(storeId: $s) { kind code qrScene } }",
                                          s=gid("PickupStore", store)))["storeChannelCode"]
    assert store_code["kind"] == "STORE" and store_code["qrScene"] == store_code["code"]
    # The new argument gives the same code; both together, neither, or another type's id are typed errors.
    code_by = "query($p: ID, $s: ID) { storeChannelCode(pickupStoreId: $p, storeId: $s) { code } }"
    assert (await staff_client.data(code_by, p=gid("PickupStore", store)))["storeChannelCode"]["code"] == store_code["code"]
    for variables, code in (({"p": gid("PickupStore", store), "s": gid("PickupStore", store)}, "KERNEL_INVALID_INPUT"),
                            ({}, "KERNEL_INVALID_INPUT"), ({"p": gid("Staff", 1)}, "KERNEL_INVALID_ID")):
        refused = await staff_client.execute(code_by, variables)
        assert refused["data"] == {"storeChannelCode": None} and refused["errors"][0]["path"] == ["storeChannelCode"], variables
        assert refused["errors"][0]["extensions"]["code"] == code, refused
    by_store = await graphql(kernel, member(1)).mutate(TOUCH, code=store_code["code"])
    assert by_store["binding"] == {"guideId": None, "storeId": gid("PickupStore", store), "channel": "STORE_CODE",
                                   "protectedUntil": None}
    mine = await graphql(kernel, member(1)).data("{ myGuide { pickupStoreId storeId } }")
    assert mine["myGuide"] == {"pickupStoreId": gid("PickupStore", store), "storeId": gid("PickupStore", store)}

    # Member 2 follows Wang; member 3 arrives through member 2's code and joins Wang too. Li gets one.
    await graphql(kernel, member(2)).mutate(TOUCH, code=await code_of(graphql, kernel, wang))
    friend = await graphql(kernel, member(3)).mutate(TOUCH, code=await code_of(graphql, kernel, member(2)))
    assert (friend["binding"]["guideId"], friend["binding"]["channel"]) == (gid("Staff", wang.id), "MEMBER_CODE")
    await graphql(kernel, member(4)).mutate(TOUCH, code=await code_of(graphql, kernel, li))

    board = (await staff_client.data(BOARD, m="MEMBERS_ADDED"))["guideLeaderboard"]
    assert [(e["rank"], e["figures"]["holderId"], e["figures"]["membersAdded"]) for e in board] == [
        (1, gid("Staff", wang.id), 2), (2, gid("Staff", li.id), 1)]
    idle = (await staff_client.data(IDLE))["idleGuides"]["nodes"]
    assert [n["id"] for n in idle] == [gid("Staff", zhao.id)]
    long_ago = (await staff_client.data(IDLE, **{"from": "2020-01-01", "to": "2020-01-31"}))["idleGuides"]["nodes"]
    assert [n["id"] for n in long_ago] == [gid("Staff", g.id) for g in (wang, li, zhao)]
    paged = "query($l: Int, $b: String) { idleGuides(from: \"2020-01-01\", to: \"2020-01-31\", last: $l, before: $b) {" \
            " edges { cursor node { id } } pageInfo { hasPreviousPage } } }"
    tail = (await staff_client.data(paged, l=2))["idleGuides"]
    assert [e["node"]["id"] for e in tail["edges"]] == [gid("Staff", g.id) for g in (li, zhao)] and tail["pageInfo"]["hasPreviousPage"]
    head = (await staff_client.data(paged, l=2, b=tail["edges"][0]["cursor"]))["idleGuides"]["edges"]
    assert [e["node"]["id"] for e in head] == [gid("Staff", wang.id)]
    last_figure = (await staff_client.data("{ guideFigures(holderKind: GUIDE, last: 1) { nodes { holderId membersAdded } } }"))
    assert last_figure["guideFigures"]["nodes"] == [{"holderId": gid("Staff", li.id), "membersAdded": 1}]
    backwards = await staff_client.execute(IDLE, **{"from": "2026-02-01", "to": "2026-01-01"})
    assert backwards["errors"][0]["extensions"]["code"] == "GUIDE_ATTRIBUTION_INVALID_PERIOD"
    figures = await graphql(kernel, wang).data("{ myGuideFigures { membersAdded orders } }")
    assert figures["myGuideFigures"] == {"membersAdded": 2, "orders": 0}
    hidden = await graphql(kernel, wang).execute("{ guideLeaderboard(holderKind: GUIDE, metric: ORDERS) { rank } }")
    assert hidden["errors"][0]["extensions"]["code"] == "KERNEL_FORBIDDEN"
