"""Shared helpers for the member_tags tests (not a test module: no test_ prefix)."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from core.gql.relay import to_global_id
from core.testing import staff
from core.transaction import Event

BLUEPRINT = """\
dougong: 1
brand: {slug: mt, name: MT, currency: CNY, timezone: Asia/Shanghai}
components:
  member_tags:
    window_days: 365
    lifecycle: {repeat_from_orders: 2, dormant_after_days: 90, churned_after_days: 180}
    rfm:
      recency: {split: threshold, threshold: 30}
      frequency: {split: median}
      monetary: {split: threshold, threshold: 20000}
    rules:
      - {name: 活跃复购 active repeat, window_days: 365, min_orders: 4, last_order_within_days: 120}
      - {name: big spender, min_paid_minor: 30000}
"""

PROFILE = """query($id: ID!) { memberProfile(memberId: $id) { id stage segment ordersCount paid { amountMinor }
  windowOrders windowPaid { amountMinor } lastOrderAt firstOrderAt tags { name kind } member { id } } }"""
PROFILES = """query($filter: MemberProfileFilter, $first: Int, $after: String) { memberProfiles(filter: $filter, first: $first, after: $after) {
  nodes { id stage segment member { id } } pageInfo { hasNextPage endCursor } } }"""
TAGS = """query($kind: MemberTagKind) { memberTags(first: 100, kind: $kind) { nodes { id name kind memberCount } } }"""
CREATE = """mutation($name: String!) { createMemberTag(input: {name: $name}) { tag { id name kind memberCount }
  userErrors { code field message } } }"""
TAG = """mutation($tag: ID!, $members: [ID!]!) { tagMembers(input: {tagId: $tag, memberIds: $members}) {
  changed tag { memberCount } userErrors { code field message } } }"""
UNTAG = """mutation($tag: ID!, $members: [ID!]!) { untagMembers(input: {tagId: $tag, memberIds: $members}) {
  changed tag { memberCount } userErrors { code field message } } }"""
DELETE = """mutation($tag: ID!) { deleteMemberTag(input: {tagId: $tag}) { deletedTagId userErrors { code field } } }"""

_ids = itertools.count(1_000_000)


def gid(kind: str, pk: int) -> str:
    return to_global_id(kind, pk)


def admin() -> Any:
    return staff(1, "admin")


def paid_event(member_id: int, order_id: int, total: int, at: datetime) -> Event:
    """An ``order.paid`` as the outbox delivers it (only the keys member_tags reads matter)."""
    return Event(next(_ids), "order.paid", {"orderId": order_id, "memberId": member_id, "totalMinor": total,
                                            "refundedMinor": 0, "status": "paid"}, at)


def refunded_event(member_id: int, order_id: int, refunded: int, status: str, at: datetime) -> Event:
    return Event(next(_ids), "order.refunded", {"orderId": order_id, "memberId": member_id, "refundedMinor": refunded,
                                                "status": status, "full": status == "refunded"}, at)
