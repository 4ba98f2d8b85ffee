"""Issue 28: /metrics is safe to expose, and every answer carries the headers a browser needs.

Metrics: labels from a fixed vocabulary, escaped; 2,000 random unknown paths add no series;
an injected sample never appears; the optional token. Headers: nosniff everywhere, a frame
and content policy on HTML, private no-store with Vary: Authorization for signed-in answers,
CORS only for the origins a brand's blueprint lists (validated; credentials never with *).
"""

from __future__ import annotations

import random
import re

import pytest
from hostile_helpers import http_client

from core.app import create_app
from core.auth import Actor
from core.blueprint import BlueprintError
from core.http.metrics import escape_label

BRAND = """\
dougong: 1
brand: {slug: %s, name: Metrics, currency: CNY, timezone: Asia/Shanghai}
%scomponents:
  catalog: {}
"""
# A sample line of the Prometheus text format: a name, escaped labels, a number.
SAMPLE = re.compile(r'^[a-z_]+\{([a-z_]+="(?:[^"\\\n]|\\["\\n])*",?)*\} [0-9.e+-]+$')


def _series(text: str) -> list[str]:
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    for line in lines:
        assert SAMPLE.match(line), line
    return lines


async def test_metrics_labels_are_bounded_and_escaped(kernel_factory):
    kernel = await kernel_factory(BRAND % ("metered", ""))
    async with http_client(create_app([kernel], run_worker=False)) as http:
        await http.post("/graphql", json={"query": "{ brand { slug } }"})
        await http.get('/x%22%7D%201%0Afake_total%201%0A')  # a label break-out, if it went in as sent
        await http.get("/brands/nosuch%22/graphql")
        before = _series((await http.get("/metrics")).text)
        rng = random.Random(28)
        for _ in range(2000):
            await http.get("/z" + "".join(rng.choice("abcdefghij%/\"\\") for _ in range(12)))
        after = (await http.get("/metrics")).text
    assert not any(line.startswith("fake_total") for line in after.splitlines())
    series = _series(after)
    assert len(series) <= len(before) + 2  # the 404s of "other" (and /metrics itself) at most
    assert 'dougong_http_requests_total{brand="metered",path="other",status="404"}' in after
    assert 'dougong_http_requests_total{brand="metered",path="graphql",status="200"} 1' in after
    assert escape_label('a"b\\c\nd') == 'a\\"b\\\\c\\nd'


async def test_metrics_can_require_a_token(kernel_factory, monkeypatch):
    monkeypatch.setenv("DOUGONG_METRICS_TOKEN", "scrape-me-please")
    kernel = await kernel_factory(BRAND % ("tokened", ""))
    async with http_client(create_app([kernel], run_worker=False)) as http:
        assert (await http.get("/metrics")).status_code == 401
        assert (await http.get("/metrics", headers={"authorization": "Bearer wrong"})).status_code == 401
        ok = await http.get("/metrics", headers={"authorization": "Bearer scrape-me-please"})
    assert ok.status_code == 200 and "dougong_components" in ok.text


async def test_security_headers(kernel_factory):
    kernel = await kernel_factory(BRAND % ("headers", ""))
    token = kernel.issue_token(Actor("member", 1))
    async with http_client(create_app([kernel], run_worker=False)) as http:
        anonymous = await http.post("/graphql", json={"query": "{ brand { slug } }"})
        signed_in = await http.post("/graphql", json={"query": "{ brand { slug } }"}, headers={"authorization": f"Bearer {token}"})
        graphiql = await http.get("/graphql", headers={"accept": "text/html"})
        health = await http.get("/healthz")
    for response in (anonymous, signed_in, graphiql, health):
        assert response.headers["x-content-type-options"] == "nosniff"
    assert graphiql.headers["content-type"].startswith("text/html")
    assert "frame-ancestors 'none'" in graphiql.headers["content-security-policy"]
    assert graphiql.headers["x-frame-options"] == "DENY"
    assert signed_in.headers["cache-control"] == "private, no-store"
    assert "Authorization" in signed_in.headers["vary"]
    assert "private" not in anonymous.headers.get("cache-control", "")


async def test_cors_only_for_the_origins_a_brand_lists(kernel_factory):
    listed = await kernel_factory(BRAND % ("corsy", "cors: {origins: [\"https://h5.corsy.example\"], max_age: 60}\n"))
    unlisted = await kernel_factory(BRAND % ("closed", ""))
    preflight = {"origin": "https://h5.corsy.example", "access-control-request-method": "POST",
                 "access-control-request-headers": "authorization, content-type"}
    async with http_client(create_app([listed, unlisted], run_worker=False)) as http:
        allowed = await http.options("/brands/corsy/graphql", headers=preflight)
        simple = await http.post("/brands/corsy/graphql", json={"query": "{ brand { slug } }"},
                                 headers={"origin": "https://h5.corsy.example"})
        foreign = await http.options("/brands/corsy/graphql", headers={**preflight, "origin": "https://evil.example"})
        other_brand = await http.post("/brands/closed/graphql", json={"query": "{ brand { slug } }"},
                                      headers={"origin": "https://h5.corsy.example"})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://h5.corsy.example"
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in allowed.headers
    assert simple.headers["access-control-allow-origin"] == "https://h5.corsy.example"
    assert "access-control-allow-origin" not in foreign.headers
    assert "access-control-allow-origin" not in other_brand.headers  # none by default


@pytest.mark.parametrize("cors", [
    '{origins: ["*"], credentials: true}',
    '{origins: ["h5.example.com"]}',
    '{origins: ["https://h5.example.com/path"]}',
    '{origins: "https://h5.example.com"}',
    '{allow: ["https://h5.example.com"]}',
])
async def test_cors_settings_are_validated(kernel_factory, cors):
    with pytest.raises(BlueprintError) as refused:
        await kernel_factory(BRAND % ("badcors", f"cors: {cors}\n"))
    assert "cors" in str(refused.value)
