"""Issue 28: request bodies a hostile or broken client sends are answered in GraphQL's shape,
with a code, never as plain text, a 500 or a traceback in the log.

Raw HTTP bodies are fuzzed too: bad UTF-8, deep JSON, wrong types at every level.
"""

from __future__ import annotations

import json
import random

import pytest
from hostile_helpers import codes, http_client, tracebacks

from core.app import create_app
from core.http.limits import Limits

LIMITS = Limits(max_body_bytes=64 * 1024, max_json_depth=16, max_json_values=2000)
CATALOG = """\
dougong: 1
brand: {slug: hostile, name: Hostile, currency: CNY, timezone: Asia/Shanghai}
components:
  catalog: {}
"""


@pytest.fixture
async def app(kernel_factory):
    kernel = await kernel_factory(CATALOG)
    return create_app([kernel], run_worker=False, limits=LIMITS)


async def test_a_body_over_the_limit_is_413_in_graphql_shape(app, caplog):
    big = json.dumps({"query": "{ brand { slug } }", "variables": {"pad": "x" * (LIMITS.max_body_bytes + 1)}})
    async with http_client(app) as http:
        declared = await http.post("/graphql", content=big, headers={"content-type": "application/json"})

        async def chunks():  # no Content-Length: counted as it arrives
            for i in range(0, len(big), 8192):
                yield big[i:i + 8192].encode()

        streamed = await http.post("/graphql", content=chunks(), headers={"content-type": "application/json"})
        ok = await http.post("/graphql", json={"query": "{ brand { slug } }"})
    for response in (declared, streamed):
        assert response.status_code == 413
        assert codes(response.json()) == ["KERNEL_REQUEST_TOO_LARGE"]
    assert ok.json() == {"data": {"brand": {"slug": "hostile"}}}
    assert not tracebacks(caplog.records)


MALFORMED = [
    (b'{"query": "{ brand { slug } }", "variables": {"x": ' + b"[" * 10_000 + b"]" * 10_000 + b"}}", "KERNEL_BAD_REQUEST"),
    (b'{"query": "{ brand { slug } }", "variables": {"x": ' + b"[" * 20 + b"]" * 20 + b"}}", "KERNEL_BAD_REQUEST"),
    (b'{"query": "{ brand { slug } }", "variables": {"x": [' + b",".join([b"1"] * 3000) + b"]}}", "KERNEL_BAD_REQUEST"),
    (b'{"query": "{ brand { slug } }"\xff\xfe}', "KERNEL_BAD_REQUEST"),
    (b'{"query": "\xc3\x28"}', "KERNEL_BAD_REQUEST"),
    (b"not json", "KERNEL_BAD_REQUEST"),
    (b'{"query": 42}', "KERNEL_BAD_REQUEST"),
    (b'{"query": "{ brand { slug } }", "variables": [1, 2]}', "KERNEL_BAD_REQUEST"),
    (b'{"query": "{ brand { slug } }", "extensions": "x"}', "KERNEL_BAD_REQUEST"),
    (b'{"query": "query($s: String) { brand { slug } }", "variables": {"s": "a\\u0000b"}}', "KERNEL_INVALID_INPUT"),
    (b'{"query": "query($s: String) { brand { slug } }", "variables": {"s": "\\ud800"}}', "KERNEL_INVALID_INPUT"),
    (b"42", "KERNEL_BAD_REQUEST"),
    (b"[]", "KERNEL_BAD_REQUEST"),
]  # deep (10,000 levels), deeper than the limit, too many values, bad UTF-8 (twice), not JSON,
#   query/variables/extensions of the wrong type, NUL and a lone surrogate in a variable, not an object


async def test_malformed_bodies_are_400_with_a_code(app, caplog):
    async with http_client(app) as http:
        for body, code in MALFORMED:
            response = await http.post("/graphql", content=body, headers={"content-type": "application/json"})
            assert response.status_code == 400, (body[:80], response.text)
            assert response.headers["content-type"].startswith("application/json")
            assert codes(response.json()) == [code], (body[:80], response.text)
    assert not tracebacks(caplog.records)


def _fuzzed_body(rng: random.Random) -> bytes:
    """A request body broken in one of many ways."""
    values = [None, True, 0, -1, 1.5, 2**70, "", "x" * 50, [], {}, [[[]]], {"a": {"b": {}}}, "\u0000", "{ brand { slug } }"]
    shape = {"query": rng.choice(values), "variables": rng.choice(values), "operationName": rng.choice(values),
             "extensions": rng.choice(values)}
    for key in list(shape):
        if rng.random() < 0.3:
            del shape[key]
    text = json.dumps(shape if rng.random() < 0.8 else rng.choice(values)).encode()
    mangle = rng.random()
    if mangle < 0.2:
        position = rng.randrange(len(text) + 1)
        text = text[:position] + bytes([rng.randrange(128, 256)]) + text[position:]
    elif mangle < 0.3:
        text = text[: rng.randrange(len(text) + 1)]
    elif mangle < 0.4:
        depth = rng.choice([5, 40, 3000])
        text = b'{"query": "{ brand { slug } }", "variables": {"v": ' + b"{\"a\":" * depth + b"1" + b"}" * depth + b"}}"
    return text


async def test_fuzzed_bodies_never_meet_an_internal_error(app, caplog):
    rng = random.Random(28)
    statuses = set()
    async with http_client(app) as http:
        for _ in range(200):
            body = _fuzzed_body(rng)
            response = await http.post("/graphql", content=body, headers={"content-type": "application/json"})
            statuses.add(response.status_code)
            assert response.status_code in (200, 400), (body[:200], response.status_code, response.text[:300])
            answer = response.json()  # always JSON
            assert "KERNEL_INTERNAL" not in codes(answer), (body[:200], answer)
    assert statuses == {200, 400}  # the run reached both answers
    assert not tracebacks(caplog.records)
