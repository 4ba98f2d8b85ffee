"""Who is calling: bearer tokens (JWT, HS256) for members and staff.

Tokens are scoped to one brand (``aud`` = brand slug), so a token of one brand is useless at
another mounted in the same process. Only HS256 is accepted: ``alg: none`` and algorithm
confusion are refused by construction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

import jwt

ISSUER = "dougong"
ALGORITHM = "HS256"
STAFF_ROLES = ("admin", "store_clerk", "live_host")


class TokenError(Exception):
    """The bearer token was refused; the message says why, without echoing the token."""


@dataclass(frozen=True)
class Actor:
    kind: Literal["anonymous", "member", "staff"] = "anonymous"
    id: int | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    store_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def is_member(self) -> bool:
        return self.kind == "member"

    @property
    def is_staff(self) -> bool:
        return self.kind == "staff"

    @property
    def is_admin(self) -> bool:
        return self.is_staff and "admin" in self.roles

    @property
    def key(self) -> str:
        """A stable string for idempotency keys and rate limits."""
        return f"{self.kind}:{self.id}" if self.id is not None else "anonymous"

    def has_role(self, role: str) -> bool:
        return self.is_staff and role in self.roles


ANONYMOUS = Actor()


class Tokens:
    def __init__(self, secret: str, audience: str, ttl: timedelta, now) -> None:  # noqa: ANN001
        if len(secret) < 32:
            raise ValueError("the token secret must be at least 32 characters (HS256 wants 256 bits)")
        self._secret = secret
        self.audience = audience
        self.ttl = ttl
        self._now = now

    def issue(self, actor: Actor, ttl: timedelta | None = None) -> str:
        if actor.kind == "anonymous" or actor.id is None:
            raise ValueError("tokens are issued to members and staff only")
        issued: datetime = self._now()
        claims = {
            "iss": ISSUER,
            "aud": self.audience,
            "sub": f"{actor.kind}:{actor.id}",
            "iat": int(issued.timestamp()),
            "exp": int((issued + (ttl or self.ttl)).timestamp()),
        }
        if actor.is_staff:
            claims["roles"] = sorted(actor.roles)
            claims["stores"] = sorted(actor.store_ids)
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def decode(self, token: str) -> Actor:
        try:
            # PyJWT would check exp against the real time; the kernel's clock may be a test's.
            claims = self._decode_with_our_clock(token)
        except jwt.ExpiredSignatureError as exc:
            raise TokenError("the token has expired; sign in again") from exc
        except jwt.InvalidAudienceError as exc:
            raise TokenError("the token was issued for another brand") from exc
        except jwt.InvalidSignatureError as exc:
            raise TokenError("the token's signature is not valid") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise TokenError(f"the token lacks the '{exc.claim}' claim") from exc
        except jwt.InvalidTokenError as exc:
            raise TokenError(f"the token is not valid: {exc}") from exc
        return _actor_from_claims(claims)

    def _decode_with_our_clock(self, token: str) -> dict:
        claims = jwt.decode(
            token,
            self._secret,
            algorithms=[ALGORITHM],
            audience=self.audience,
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "aud", "iss"], "verify_exp": False, "verify_iat": False},
        )
        if not isinstance(claims.get("exp"), int) or claims["exp"] <= self._now().timestamp():
            raise jwt.ExpiredSignatureError("expired")
        return claims


def _actor_from_claims(claims: dict) -> Actor:
    kind, _, raw_id = str(claims["sub"]).partition(":")
    if kind not in ("member", "staff") or not raw_id.isdigit():
        raise TokenError("the token's subject is not a member or staff id")
    if kind == "member":
        return Actor("member", int(raw_id))
    roles = claims.get("roles") or []
    stores = claims.get("stores") or []
    if not isinstance(roles, list) or not all(r in STAFF_ROLES for r in roles):
        raise TokenError("the token names an unknown staff role")
    if not isinstance(stores, list) or not all(isinstance(s, int) for s in stores):
        raise TokenError("the token's store list is malformed")
    return Actor("staff", int(raw_id), frozenset(roles), frozenset(stores))
