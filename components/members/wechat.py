"""WeChat mini-program sign-in: the ``wechat`` identity provider, and phone-number binding.

The mini-program calls ``wx.login()`` and sends the code to ``signIn(input: {provider:
"wechat", credential: code})``; we exchange it at WeChat's ``/sns/jscode2session`` for the
person's ``openid`` (and ``unionid`` when the brand's apps share an open-platform account)
and find or register the member by them. A signed-in member may then bind their phone:
``getPhoneNumber`` gives the mini-program a one-time code, which ``bindWeChatPhone`` exchanges
at ``/wxa/business/getuserphonenumber`` (with the app's access token from ``/cgi-bin/token``).

The endpoint is a setting (``members.wechat.endpoint``) so tests and staging talk to a local
fake; calls to it happen before the database transaction opens, so a slow WeChat never
holds the brand's write lock. Without ``members.wechat`` configured the provider does not
exist and ``signIn`` answers ``MEMBERS_UNKNOWN_PROVIDER``; development sign-in stays the
sandbox default.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Mapping

import httpx
from sqlalchemy import select

from components.members.models import Member
from components.members.settings import DEFAULT_ENDPOINT
from core.auth import Actor
from core.errors import DomainError
from core.transaction import Transaction

log = logging.getLogger("dougong.members.wechat")

PROVIDER = "wechat"
# errcodes that mean "this code is no good" rather than "WeChat is unwell": used, expired, forged.
REJECTED = {40029, 40163, 40226, 40013, 45011}


class WeChatMiniProgram:
    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.app_id = settings["app_id"]
        self._secret = settings["app_secret"]
        self.endpoint = str(settings.get("endpoint") or DEFAULT_ENDPOINT).rstrip("/")
        self.timeout = float(settings.get("timeout_seconds", 5))
        self._access_token: tuple[str, float] | None = None  # (token, monotonic expiry)

    @classmethod
    def configured(cls, settings: Mapping[str, Any]) -> WeChatMiniProgram | None:
        wechat = settings.get("wechat") or {}
        return cls(wechat) if wechat.get("app_id") and wechat.get("app_secret") else None

    # -- the identity provider ---------------------------------------------------------------------
    async def verify(self, code: str) -> dict[str, str | None]:
        """``code`` from ``wx.login()`` → ``{"openid", "unionid"}``; before the transaction."""
        if not isinstance(code, str) or not (1 <= len(code) <= 200):
            raise DomainError("MEMBERS_SIGN_IN_REJECTED", "A WeChat login code is 1 to 200 characters.", field="input.credential")
        body = await self._get(
            "/sns/jscode2session", {"appid": self.app_id, "secret": self._secret, "js_code": code, "grant_type": "authorization_code"}
        )
        openid = body.get("openid")
        if not isinstance(openid, str) or not openid:
            raise DomainError("MEMBERS_SIGN_IN_REJECTED", "WeChat did not accept the login code.", field="input.credential")
        unionid = body.get("unionid")
        # session_key is deliberately dropped: we decrypt nothing client-side, and a stored
        # session key is one more secret to leak.
        return {"openid": openid, "unionid": unionid if isinstance(unionid, str) and unionid else None}

    async def authenticate(self, tx: Transaction, verified: dict[str, str | None]) -> Actor:
        openid, unionid = verified["openid"], verified.get("unionid")
        member = await tx.session.scalar(select(Member).where(Member.open_id == openid))
        if member is None and unionid:
            # Known from another of the brand's apps (same unionid): the same person.
            member = await tx.session.scalar(select(Member).where(Member.union_id == unionid))
            if member is not None and member.open_id is None:
                member.open_id = openid
        if member is None:
            service = tx.kernel.service("members")
            member_id = await service.create_member(tx, open_id=openid, source_channel="wechat_mini_program")
            member = await tx.session.get(Member, member_id)
        if unionid and member.union_id is None:
            member.union_id = unionid
        return Actor("member", member.id)

    # -- phone binding -----------------------------------------------------------------------------
    async def phone_number(self, phone_code: str) -> str:
        """The phone number behind a ``getPhoneNumber`` code; before the transaction."""
        if not isinstance(phone_code, str) or not (1 <= len(phone_code) <= 200):
            raise DomainError("MEMBERS_WECHAT_REJECTED", "A phone code is 1 to 200 characters.", field="input.code")
        token = await self._app_access_token()
        body = await self._post("/wxa/business/getuserphonenumber", {"access_token": token}, {"code": phone_code})
        info = body.get("phone_info") if isinstance(body.get("phone_info"), dict) else {}
        phone = info.get("purePhoneNumber") or info.get("phoneNumber")
        if not isinstance(phone, str) or not phone:
            raise DomainError("MEMBERS_WECHAT_REJECTED", "WeChat did not give a phone number for that code.", field="input.code")
        return phone

    async def _app_access_token(self) -> str:
        cached = self._access_token
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        body = await self._get("/cgi-bin/token", {"grant_type": "client_credential", "appid": self.app_id, "secret": self._secret})
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise DomainError("MEMBERS_WECHAT_UNAVAILABLE", "WeChat did not issue an access token; try again shortly.")
        lifetime = body.get("expires_in") if isinstance(body.get("expires_in"), int) else 7200
        # Renewed five minutes early: a token that expires mid-request fails the customer.
        self._access_token = (token, time.monotonic() + max(lifetime - 300, 60))
        return token

    # -- HTTP --------------------------------------------------------------------------------------
    async def _get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        return await self._call("GET", path, params, None)

    async def _post(self, path: str, params: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        return await self._call("POST", path, params, body)

    async def _call(self, method: str, path: str, params: dict[str, str], body: dict[str, Any] | None) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(base_url=self.endpoint, timeout=self.timeout) as http:
                response = await http.request(method, path, params=params, json=body)
            data = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            # Never the URL: it carries the app secret or the access token.
            log.warning("WeChat %s failed: %s", path, type(exc).__name__)
            raise DomainError("MEMBERS_WECHAT_UNAVAILABLE", "WeChat could not be reached; try again shortly.") from None
        if not isinstance(data, dict):
            raise DomainError("MEMBERS_WECHAT_UNAVAILABLE", "WeChat answered something unexpected; try again shortly.")
        errcode = data.get("errcode") or 0
        if errcode in REJECTED:
            code = "MEMBERS_SIGN_IN_REJECTED" if path == "/sns/jscode2session" else "MEMBERS_WECHAT_REJECTED"
            raise DomainError(code, "WeChat refused the code (used, expired or not from this mini-program).")
        if errcode:
            if errcode in (40001, 42001):  # the access token went stale early: fetch a fresh one next time
                self._access_token = None
            log.warning("WeChat %s answered errcode %s", path, errcode)
            raise DomainError("MEMBERS_WECHAT_UNAVAILABLE", "WeChat could not complete the request; try again shortly.")
        return data
