"""core.gql.fanout_rules: which subscription documents may share one execution among all viewers.

Checked against the real schema of a blueprint with live_room, bidding_sale and group_buy,
whose subscriptions mix plain payload fields with viewer-dependent ones (a host-only member
id, the shelf as the viewer sees it, a lot's ``isMine``-style fields)."""

from __future__ import annotations

import pytest
from graphql import parse

from core.gql.fanout_rules import shareable

BLUEPRINT = """\
dougong: 1
brand: {slug: rules, name: Rules, currency: CNY, timezone: Asia/Shanghai}
components:
  live_room: {}
  bidding_sale: {}
"""

PLAIN = "subscription($room: ID!) { liveRoomEvents(roomId: $room) { kind commentCount comment { text author createdAt } } }"


@pytest.fixture
async def schema(kernel_factory):
    kernel = await kernel_factory(BLUEPRINT)
    return kernel.schema._schema


def check(schema, query: str, name: str | None = None) -> bool:
    return shareable(schema, parse(query), name)


@pytest.mark.parametrize(
    "query",
    [
        PLAIN,
        # deprecated flat fields, the room node's plain fields and its global id, the stream position
        "subscription($r: ID!) { liveRoomEvents(roomId: $r) { __typename kind roomId status viewerCount "
        "room { id title status likeCount } stream { seq gap } } }",
        # fragments and inline fragments over plain fields
        "subscription($r: ID!) { liveRoomEvents(roomId: $r) { ...E } } fragment E on LiveRoomEvent { kind comment { ...C } } "
        "fragment C on LiveRoomComment { text }",
        "subscription($r: ID!) { liveRoomEvents(roomId: $r) { ... on LiveRoomEvent { kind } } }",
    ],
)
async def test_documents_of_plain_payload_fields_are_shared(schema, query):
    assert check(schema, query) is True


@pytest.mark.parametrize(
    "query",
    [
        # the commenter's member id: for the host and managers only
        "subscription($r: ID!) { liveRoomEvents(roomId: $r) { kind comment { text authorMemberId } } }",
        # the shelf as this subscriber sees it (viewer vs host)
        "subscription($r: ID!) { liveRoomEvents(roomId: $r) { kind shelf { onShelf } } }",
        # host-only push URL, and a resolver behind a fragment
        "subscription($r: ID!) { liveRoomEvents(roomId: $r) { room { pushUrl } } }",
        "subscription($r: ID!) { liveRoomEvents(roomId: $r) { ...R } } fragment R on LiveRoomEvent { room { results { gmv { amountMinor } } } }",
        # a field with a resolver that is not viewer-specific today is still not proven so
        "subscription($r: ID!) { liveRoomEvents(roomId: $r) { room { hostName } } }",
        # a root field its component did not declare viewer-independent
        "subscription($lot: ID!) { auctionLotUpdates(lotId: $lot) { bidCount } }",
        # not a subscription; several operations without a name; an unknown field
        "query { __typename }",
        "subscription A($r: ID!) { liveRoomEvents(roomId: $r) { kind } } subscription B($r: ID!) { liveRoomEvents(roomId: $r) { kind } }",
        "subscription($r: ID!) { liveRoomEvents(roomId: $r) { noSuchField } }",
        "subscription($r: ID!) { liveRoomEvents(roomId: $r) { ...Missing } }",
    ],
)
async def test_anything_that_may_depend_on_the_viewer_is_not_shared(schema, query):
    assert check(schema, query) is False


async def test_the_operation_name_picks_the_operation(schema):
    query = f"query Q {{ __typename }} {PLAIN.replace('subscription(', 'subscription S(')}"
    assert check(schema, query, "S") is True
    assert check(schema, query, "Q") is False
    assert check(schema, query, "Nope") is False
