"""``kernel.service("wechat_pay")``: the merchant's configuration, the API client and the provider."""

from __future__ import annotations

from typing import Any, Mapping

from components.wechat_pay import MERCHANT
from components.wechat_pay.client import Client, Config
from components.wechat_pay.provider import WeChatPayProvider
from core.errors import BootError


class WeChatPay:
    """Without merchant settings the component loads (its tables, its webhook) but offers no
    provider: ``payOrder(provider: "wechat_pay")`` answers ``ORDERS_UNKNOWN_PROVIDER``."""

    def __init__(self, kernel: Any, settings: Mapping[str, Any]) -> None:
        self.configured = all(settings.get(key) for key in MERCHANT)
        self.reconcile_every = int(settings.get("reconcile_every", 60))
        self.config: Config | None = None
        self.client: Client | None = None
        self.provider: WeChatPayProvider | None = None
        if not self.configured:
            return
        try:
            self.config = Config.from_settings(settings)
        except (ValueError, TypeError) as exc:
            # A key that does not load stops the boot, not the first payment.
            raise BootError(f"component 'wechat_pay': a key in its settings does not load: {exc}") from None
        self.client = Client(self.config)
        self.provider = WeChatPayProvider(kernel, self.client)
