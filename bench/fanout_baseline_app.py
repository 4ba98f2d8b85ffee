"""The fan-out baseline: a hand-written FastAPI websocket broadcaster with no GraphQL and no
database. ``POST /send {"text": …}`` serialises the message once and writes it to every
connected socket. Run by ``bench/live_room_fanout.py`` with uvicorn, one worker."""

from __future__ import annotations

import asyncio
import json

from fastapi import FastAPI, WebSocket, WebSocketDisconnect

app = FastAPI()
sockets: set[WebSocket] = set()


@app.get("/healthz")
async def healthz() -> dict:
    return {"status": "ok"}


@app.websocket("/ws")
async def subscribe(ws: WebSocket) -> None:
    await ws.accept()
    sockets.add(ws)
    try:
        while True:
            await ws.receive_text()
    except WebSocketDisconnect:
        pass
    finally:
        sockets.discard(ws)


@app.post("/send")
async def send(message: dict) -> dict:
    data = json.dumps({"kind": "comment", "comment": {"text": message["text"]}})
    await asyncio.gather(*(ws.send_text(data) for ws in list(sockets)), return_exceptions=True)
    return {"sent": len(sockets)}
