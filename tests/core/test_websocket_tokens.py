"""Tokens over websockets the way clients send them, and never in the server's logs.

graphql-ws, Apollo and urql put the token in ``connection_init``'s payload; older browser code
puts it in ``?token=``. Both sign the connection in; a bad token in either is refused (4401
close, or the handshake refused), never downgraded to anonymous. The query-string token is
kept out of uvicorn's access and error logs.
"""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from core.testing import GraphQLWebSocket, WebSocketClosed, member, serve_kernel, serve_process

BRAND = """\
dougong: 1
brand: {slug: tea, name: Tea, currency: CNY, timezone: Asia/Shanghai}
components:
  members: {}
"""
ME = "{ me { id } }"


async def me_over(socket: GraphQLWebSocket) -> dict | None:
    async for data in socket.subscribe(ME):  # a query over the socket: one result, then complete
        return data["me"]
    raise AssertionError("no result")


async def with_member(kernel) -> str:  # noqa: ANN001
    async with kernel.transaction() as tx:
        await kernel.service("members").create_member(tx, phone="13800000001")
    return kernel.issue_token(member(1))


@pytest.mark.parametrize("payload", [
    lambda t: {"Authorization": f"Bearer {t}"},
    lambda t: {"authorization": f"Bearer {t}"},
    lambda t: {"authorization": t},
    lambda t: {"token": t},
], ids=["Authorization", "authorization", "bare", "token"])
async def test_connection_init_payload_tokens_sign_the_connection_in(kernel_factory, payload):
    kernel = await kernel_factory(BRAND)
    token = await with_member(kernel)
    async with serve_kernel(kernel) as url:
        async with GraphQLWebSocket.connect(url, init=payload(token)) as socket:
            assert (await me_over(socket)) is not None
        async with GraphQLWebSocket.connect(url) as socket:  # and without one: anonymous
            assert (await me_over(socket)) is None
        async with GraphQLWebSocket.connect(url, token) as socket:  # ?token= still works
            assert (await me_over(socket)) is not None


async def test_a_bad_connection_init_token_closes_with_4401_and_a_reason(kernel_factory, clock):
    kernel = await kernel_factory(BRAND)
    token = await with_member(kernel)
    short = kernel.issue_token(member(1), timedelta(minutes=1))
    clock.advance(minutes=2)
    cases = {
        "TOKEN_BAD_SIGNATURE": token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"),
        "TOKEN_MALFORMED": "not-a-token",
        "TOKEN_EXPIRED": short,
        "TOKEN_UNKNOWN_SUBJECT": kernel.issue_token(member(42)),
    }
    async with serve_kernel(kernel) as url:
        for reason, bad in cases.items():
            with pytest.raises(WebSocketClosed) as closed:
                async with GraphQLWebSocket.connect(url, init={"Authorization": f"Bearer {bad}"}):
                    pass
            assert closed.value.code == 4401 and closed.value.reason == f"KERNEL_UNAUTHENTICATED {reason}", reason
        # A bad query-string token is refused at the handshake (the server answers 403).
        with pytest.raises(Exception) as refused:
            async with GraphQLWebSocket.connect(url, "not-a-token"):
                pass
        assert "403" in str(refused.value)


async def test_query_string_tokens_never_reach_the_logs(tmp_path):
    blueprint = tmp_path / "tea.yaml"
    blueprint.write_text(BRAND.replace("components:", "auth: {dev_sign_in: true}\ncomponents:"))
    log = tmp_path / "serve.log"
    async with serve_process(blueprint, log=log) as base, httpx.AsyncClient(base_url=base) as http:
        signed = (await http.post("/graphql", json={"query": 'mutation { signInForDevelopment(input: {phone: "13800000001"}) { token } }'})).json()
        token = signed["data"]["signInForDevelopment"]["token"]
        async with GraphQLWebSocket.connect(base + "/graphql", token) as socket:
            assert (await me_over(socket)) is not None
        # GET with the token in the URL too (GraphiQL links get pasted around).
        await http.get("/graphql", params={"query": ME, "token": token})
    text = log.read_text()
    assert "WebSocket /graphql?token=[redacted]" in text and "/graphql?query=" in text  # the lines are there...
    assert token not in text and token.split(".")[2] not in text  # ...the token is not
