"""Store channel codes (门店码): ``s<id in base 36>.<MAC>``, signed like members' share codes.

Why here and not a new kind in ``members.share_codes``: a member's or guide's code credits a
person (commission may follow), and that decision belongs to members' one rule; a store code
credits no person, it only binds a member to a store on first touch. Keeping it in this
component leaves members' contract as it was. The MAC uses a key of its own (derived from the
brand's signing secret with another label) so it never verifies as, or teaches anything about,
a member's or guide's code. Nothing is stored; a code never expires; changing ``auth.secret``
invalidates printed store codes as it does share codes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

CODE = re.compile(r"^s([0-9a-z]{1,13})\.([A-Za-z0-9_-]{16})$")
MAC_BYTES = 12
MAX_ID = 2**63 - 1
DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def derive_key(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"dougong store channel code v1", hashlib.sha256).digest()


def _base36(number: int) -> str:
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = DIGITS[rest] + out
        if number == 0:
            return out


def _mac(key: bytes, brand: str, store_id: int) -> str:
    digest = hmac.new(key, f"{brand}:store:{store_id}".encode(), hashlib.sha256).digest()[:MAC_BYTES]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign(key: bytes, brand: str, store_id: int) -> str:
    if not 0 < store_id <= MAX_ID:
        raise ValueError("a store code names a positive id")
    return f"s{_base36(store_id)}.{_mac(key, brand, store_id)}"


def parse(key: bytes, brand: str, code: str) -> int | None:
    """The store a genuine code of this brand names, or None."""
    match = CODE.match(code) if isinstance(code, str) else None
    if match is None:
        return None
    digits, mac = match.groups()
    store_id = int(digits, 36)
    if digits != _base36(store_id) or not 0 < store_id <= MAX_ID:
        return None
    return store_id if hmac.compare_digest(mac, _mac(key, brand, store_id)) else None
