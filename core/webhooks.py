"""HTTP callbacks from outside services (``dougong_webhooks``): a payment provider's
notifications. Components see plain values, never the web framework: a
:class:`WebhookRequest` in, a :class:`WebhookResponse` out, so a handler is tested by
calling it."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

if TYPE_CHECKING:  # pragma: no cover
    from core.contributions import Webhook
    from core.kernel import Kernel

log = logging.getLogger("dougong.webhooks")


@dataclass(frozen=True)
class WebhookRequest:
    headers: dict[str, str]  # lower-case names
    body: bytes  # exactly as sent: signatures cover these bytes
    query: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class WebhookResponse:
    status: int = 200
    body: bytes = b""
    media_type: str = "application/json"


def webhook_router(kernel: Kernel) -> APIRouter:
    router = APIRouter()
    for hook in kernel.contributions.webhooks.values():
        router.add_api_route(hook.path, _endpoint(kernel, hook), methods=["POST"], include_in_schema=False)
    return router


def _endpoint(kernel: Kernel, hook: Webhook) -> Any:
    async def endpoint(request: Request) -> Response:
        incoming = WebhookRequest(
            headers={k.lower(): v for k, v in request.headers.items()}, body=await request.body(), query=dict(request.query_params)
        )
        try:
            answer = await hook.handler(kernel, incoming)
        except Exception:
            # The sender retries on anything but 2xx; it learns nothing of our insides.
            log.exception("webhook %s of %s failed", hook.path, hook.component)
            return Response(b'{"code":"FAIL","message":"internal error"}', status_code=500, media_type="application/json")
        return Response(answer.body, status_code=answer.status, media_type=answer.media_type)

    endpoint.__name__ = f"webhook_{hook.component}_{hook.name}"
    return endpoint
