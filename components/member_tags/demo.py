"""Demo tags: a manual VIP tag held by two demo members (members 1 and 3, see members' README).

Channel tags come by themselves: the demo members' ``member.registered`` events are delivered
after the seed commits. Rule tags and stages follow the demo's orders as they are paid.
"""


async def seed(kernel, tx) -> None:  # noqa: ANN001
    tagging = kernel.service("member_tags").tagging
    vip = await tagging.create(tx, "VIP 贵宾", "Staff's own list of VIP customers (demo)")
    await tagging.add(tx, vip, [1, 3])
