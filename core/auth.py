"""Who is calling: bearer tokens (JWT, HS256) for members and staff.

Tokens are scoped to one brand (``aud`` = brand slug), so a token of one brand is useless at
another mounted in the same process. Only HS256 is accepted: ``alg: none`` and algorithm
confusion are refused by construction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

import jwt

ISSUER = "dougong"
ALGORITHM = "HS256"
STAFF_ROLES = ("admin", "store_clerk", "live_host")  # the built-in roles; components may declare more
ROLE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,49}$")


class TokenError(Exception):
    """The bearer token was refused; the message says why, without echoing the token or the
    decoder's internals. ``reason`` is the machine-readable code clients branch on
    (``TOKEN_EXPIRED`` means "sign in again", ``TOKEN_OTHER_BRAND`` a misconfigured frontend)."""

    def __init__(self, message: str, reason: str = "TOKEN_INVALID") -> None:
        super().__init__(message)
        self.reason = reason


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
    def __init__(self, secret: str | None, audience: str, ttl: timedelta, now) -> None:  # noqa: ANN001
        """``secret`` may be ``None`` until the kernel has read (or generated) the one kept in
        its database; see :meth:`use_secret`."""
        self._secret: str | None = None
        self.audience = audience
        self.ttl = ttl
        self._now = now
        if secret is not None:
            self.use_secret(secret)

    def use_secret(self, secret: str) -> None:
        if len(secret) < 32:
            raise ValueError("the token secret must be at least 32 characters (HS256 wants 256 bits)")
        self._secret = secret

    @property
    def secret(self) -> str:
        if self._secret is None:
            raise RuntimeError("the token secret is read from the database when the kernel starts; start it first")
        return self._secret

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
        return jwt.encode(claims, self.secret, algorithm=ALGORITHM)

    def decode(self, token: str) -> Actor:
        try:
            # PyJWT would check exp against the real time; the kernel's clock may be a test's.
            claims = self._decode_with_our_clock(token)
        except jwt.ExpiredSignatureError as exc:
            raise TokenError("the token has expired; sign in again", "TOKEN_EXPIRED") from exc
        except jwt.InvalidAudienceError as exc:
            raise TokenError("the token was issued for another brand", "TOKEN_OTHER_BRAND") from exc
        except jwt.InvalidSignatureError as exc:
            # Another brand's token fails here first (each brand has its own secret); saying
            # so points a frontend developer at the wrong endpoint instead of at their code.
            if self._claimed_audience(token) not in (None, self.audience):
                raise TokenError("the token was issued for another brand", "TOKEN_OTHER_BRAND") from exc
            raise TokenError("the token's signature is not valid", "TOKEN_BAD_SIGNATURE") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise TokenError(f"the token lacks the '{exc.claim}' claim", "TOKEN_MALFORMED") from exc
        except jwt.InvalidTokenError as exc:
            # The decoder's own message names its internals (padding, segments, algorithms):
            # nothing a client can act on, and a free hint to whoever probes the parser.
            raise TokenError("the token is not a valid bearer token of this brand", "TOKEN_MALFORMED") from exc
        return _actor_from_claims(claims)

    @staticmethod
    def _claimed_audience(token: str) -> str | None:
        try:
            audience = jwt.decode(token, options={"verify_signature": False}).get("aud")
        except jwt.InvalidTokenError:
            return None
        return audience if isinstance(audience, str) else None

    def _decode_with_our_clock(self, token: str) -> dict:
        claims = jwt.decode(
            token,
            self.secret,
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
        raise TokenError("the token's subject is not a member or staff id", "TOKEN_MALFORMED")
    if kind == "member":
        return Actor("member", int(raw_id))
    roles = claims.get("roles") or []
    stores = claims.get("stores") or []
    # Any role name, not only the built-in ones: components declare roles of their own, and
    # where a people directory is loaded the roles are re-read from it anyway.
    if not isinstance(roles, list) or not all(isinstance(r, str) and ROLE_NAME.match(r) for r in roles):
        raise TokenError("the token names an unknown staff role", "TOKEN_MALFORMED")
    if not isinstance(stores, list) or not all(isinstance(s, int) for s in stores):
        raise TokenError("the token's store list is malformed", "TOKEN_MALFORMED")
    return Actor("staff", int(raw_id), frozenset(roles), frozenset(stores))
