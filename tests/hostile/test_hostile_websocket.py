"""Issue 28: over websockets (graphql-transport-ws) a client's mistake is answered on the wire.

Every invalid ``subscribe`` gets an ``error`` message with the reason and the connection stays
usable; a frame that is not JSON, too deep or too big closes with a proper close code; a
fuzzed stream of subscribe messages never meets KERNEL_INTERNAL nor leaves a traceback in the log.
"""

from __future__ import annotations

import asyncio
import json
import random

import pytest
import websockets
from hostile_helpers import LOT_UPDATES, seed_lot, shop, tracebacks

from core.app import create_app
from core.http.limits import Limits
from core.testing import serve_app

LIMITS = Limits(max_ws_message_bytes=16 * 1024, max_json_depth=16)


@pytest.fixture
async def served(kernel_factory):
    kernel = await kernel_factory(shop("wsmistakes"))
    lot = await seed_lot(kernel)
    async with serve_app(create_app([kernel], run_worker=False, limits=LIMITS), lifespan=False, limits=LIMITS) as base:
        yield "ws" + base[4:] + "/graphql", lot


async def _connect(url: str):  # noqa: ANN202
    ws = await websockets.connect(url, subprotocols=["graphql-transport-ws"], open_timeout=10)
    await ws.send(json.dumps({"type": "connection_init"}))
    assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
    return ws


async def _answer(ws, operation_id: str) -> dict:  # noqa: ANN001
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if message.get("id") == operation_id:
            return message


BAD_SUBSCRIBES = [
    {"query": None},
    {"query": 42},
    {},
    {"query": LOT_UPDATES, "variables": [1, 2]},
    {"query": LOT_UPDATES, "variables": "x"},
    {"query": LOT_UPDATES, "operationName": 7},
    {"query": LOT_UPDATES, "variables": {"lot": "a\u0000b"}},
    {"query": "subscription { auctionLotUpdates(lotId: "},  # a syntax error
    {"query": "subscription { " + "a " * 6000 + "}"},  # over the token limit
    {"query": "subscription { auctionLotUpdates(lotId: \"\\u0000\") { seq } }"},
    {"query": "subscription { auctionLotUpdates(lotId: \"not-an-id\") { seq } }"},
    {"query": "subscription { nope }"},
]


async def test_every_invalid_subscribe_gets_an_error_and_the_socket_lives_on(served, caplog):
    url, lot = served
    ws = await _connect(url)
    try:
        for n, payload in enumerate(BAD_SUBSCRIBES):
            operation_id = f"bad-{n}"
            await ws.send(json.dumps({"id": operation_id, "type": "subscribe", "payload": payload}))
            answer = await _answer(ws, operation_id)
            # The error message, or a `next` whose errors say why (a typed refusal while running).
            errors = answer["payload"] if answer["type"] == "error" else (answer.get("payload") or {}).get("errors")
            assert answer["type"] in ("error", "next") and errors, (payload, answer)
            assert all(e.get("message") for e in errors)
            assert not any((e.get("extensions") or {}).get("code") == "KERNEL_INTERNAL" for e in errors), errors
        # The same connection still serves a valid subscription.
        await ws.send(json.dumps({"id": "good", "type": "subscribe", "payload": {"query": LOT_UPDATES, "variables": {"lot": lot}}}))
        first = await _answer(ws, "good")
        assert first["type"] == "next" and first["payload"]["data"]["auctionLotUpdates"]["bidCount"] == 0
        assert first["payload"]["data"]["auctionLotUpdates"]["stream"] == {"seq": 0, "gap": False}
    finally:
        await ws.close()
    assert not tracebacks(caplog.records)


@pytest.mark.parametrize("frame, code", [
    ("not json", 4400),
    ("[1, 2]", 4400),
    ('{"type": 5}', 4400),
    ('{"id": "1", "type": "subscribe", "payload": {"query": "{ brand { slug } }", "variables": {"v": '
     + "[" * 100_000 + "]" * 100_000 + "}}}", 1009),  # 200 KB: over the message size
    ('{"id": "1", "type": "subscribe", "payload": {"query": "{ brand { slug } }", "variables": {"v": '
     + "[" * 2000 + "]" * 2000 + "}}}", 4400),  # within the size, far too deep
    ('{"type": "subscribe", "payload": {"query": "{ brand { slug } }"}}', 4400),  # no id
], ids=["not-json", "not-an-object", "type-not-string", "too-big", "too-deep", "no-id"])
async def test_malformed_frames_close_with_a_code(served, caplog, frame, code):
    url, _ = served
    ws = await _connect(url)
    await ws.send(frame)
    with pytest.raises(websockets.ConnectionClosed):
        for _ in range(10):
            await asyncio.wait_for(ws.recv(), 10)
    assert ws.close_code == code, (ws.close_code, ws.close_reason)
    assert ws.close_reason
    assert not tracebacks(caplog.records)


async def test_fuzzed_subscribe_messages_never_meet_an_internal_error(served, caplog):
    url, lot = served
    rng = random.Random(2028)
    values = [None, 0, -1, 1.5, True, "", "x", [], {}, [None], {"a": []}, "\u0000", lot, "QXVjdGlvbkxvdDox"]
    queries = [LOT_UPDATES, "subscription { auctionLotUpdates(lotId: $lot) { seq } }", "subscription($lot: ID!) { x }",
               "query { brand { slug } }", "mutation { x }", "subscription($lot: Int!) { auctionLotUpdates(lotId: $lot) { seq } }",
               "subscription($lot: ID!) { auctionLotUpdates(lotId: $lot) { stream { seq gap } bidCount } }", "}{"]
    ws = await _connect(url)
    answered = 0
    try:
        for n in range(60):
            payload = {"query": rng.choice(queries + values), "variables": rng.choice([{"lot": rng.choice(values)}, *values])}
            if rng.random() < 0.2:
                payload["operationName"] = rng.choice(values)
            operation_id = f"f{n}"
            await ws.send(json.dumps({"id": operation_id, "type": "subscribe", "payload": payload}))
            answer = await _answer(ws, operation_id)
            answered += 1
            errors = answer["payload"] if answer["type"] == "error" else (answer.get("payload") or {}).get("errors") or []
            assert not any((e.get("extensions") or {}).get("code") == "KERNEL_INTERNAL" for e in errors), (payload, answer)
            if answer["type"] == "next":  # a live subscription: stop it, as a client would
                await ws.send(json.dumps({"id": operation_id, "type": "complete"}))
    finally:
        await ws.close()
    assert answered == 60
    assert not tracebacks(caplog.records)
