"""Who is calling: bearer tokens (JWT, HS256) for members and staff.

Tokens are scoped to one brand (``aud`` = brand slug), so a token of one brand is useless at
another mounted in the same process. Only HS256 is accepted: ``alg: none`` and algorithm
confusion are refused by construction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, TypeGuard

import jwt

ISSUER = "dougong"
ALGORITHM = "HS256"
STAFF_ROLES = ("admin", "store_clerk", "live_host", "guide")  # the built-in roles; components may declare more
ROLE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,49}$")

# The longest a token of each kind may live, whatever its exp says (an exp 100 years ahead
# was accepted): a staff token carries roles, so a leaked one must die sooner. A member's
# limit grows with the blueprint's token_ttl; a staff token is issued for at most its limit.
MAX_LIFETIME = {"member": timedelta(days=30), "staff": timedelta(days=7)}
CLOCK_SKEW = timedelta(seconds=60)  # an iat further in the future than this is refused
MAX_SUBJECT_DIGITS = 18  # every such id fits a BIGINT


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
        lifetime = min(ttl or self.ttl, self.max_lifetime(actor.kind))
        claims = {
            "iss": ISSUER,
            "aud": self.audience,
            "sub": f"{actor.kind}:{actor.id}",
            "iat": int(issued.timestamp()),
            "exp": int((issued + lifetime).timestamp()),
        }
        if actor.is_staff:
            claims["roles"] = sorted(actor.roles)
            claims["stores"] = sorted(actor.store_ids)
        return jwt.encode(claims, self.secret, algorithm=ALGORITHM)

    def max_lifetime(self, kind: str) -> timedelta:
        limit = MAX_LIFETIME[kind]
        return max(limit, self.ttl) if kind == "member" else limit

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
        now = self._now().timestamp()
        exp, iat = claims.get("exp"), claims.get("iat")
        if not _is_int(exp) or exp <= now:
            raise jwt.ExpiredSignatureError("expired")
        if not _is_int(iat) or iat > now + CLOCK_SKEW.total_seconds():
            raise jwt.InvalidTokenError("it was issued in the future")
        kind = str(claims.get("sub", "")).partition(":")[0]
        if kind in MAX_LIFETIME and exp - iat > self.max_lifetime(kind).total_seconds():
            raise jwt.InvalidTokenError(f"it lives longer than a {kind} token may")
        return claims


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _subject_id(text: str) -> int | None:
    """ASCII digits only, within a BIGINT: ``str.isdigit`` also accepts "１" (full width)
    and "²", which ``int`` reads or refuses; a 30-digit id failed inside the database."""
    if not (0 < len(text) <= MAX_SUBJECT_DIGITS and text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if value > 0 else None


def _actor_from_claims(claims: dict) -> Actor:
    kind, _, raw_id = str(claims["sub"]).partition(":")
    actor_id = _subject_id(raw_id)
    if kind not in ("member", "staff") or actor_id is None:
        raise TokenError("the token's subject is not a member or staff id", "TOKEN_MALFORMED")
    if kind == "member":
        return Actor("member", actor_id)
    roles = claims.get("roles") or []
    stores = claims.get("stores") or []
    # Any role name, not only the built-in ones: components declare roles of their own, and
    # where a people directory is loaded the roles are re-read from it anyway.
    if not isinstance(roles, list) or not all(isinstance(r, str) and ROLE_NAME.match(r) for r in roles):
        raise TokenError("the token names an unknown staff role", "TOKEN_MALFORMED")
    if not isinstance(stores, list) or not all(_is_int(s) and 0 < s < 2**63 for s in stores):
        raise TokenError("the token's store list is malformed", "TOKEN_MALFORMED")
    return Actor("staff", actor_id, frozenset(roles), frozenset(stores))
