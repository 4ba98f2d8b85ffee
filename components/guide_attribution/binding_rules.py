"""Binding rules (pure): when a touch binds a member, and until when the binding is protected.

- ``permanent``: the first touch binds for good; only staff move a member (a transfer);
- ``protected``: the binding is protected for ``protect_days`` days; a touch of another guide's
  (or store's) code after that re-binds the member and starts a new protection.

A touch of the code the member is already bound through changes nothing, in either mode
(re-scanning one's own guide's poster must not restart the protection: it would let a guide
keep a customer for ever by asking them to scan again).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

PERMANENT = "permanent"
PROTECTED = "protected"


@dataclass(frozen=True)
class Rules:
    mode: str = PERMANENT
    protect_days: int = 30

    def protected_until(self, now: datetime) -> datetime | None:
        return None if self.mode == PERMANENT else now + timedelta(days=self.protect_days)


def may_rebind(rules: Rules, *, protected_until: datetime | None, now: datetime, same_holder: bool) -> bool:
    """Whether a touch re-binds a member who is already bound."""
    if same_holder or rules.mode == PERMANENT:
        return False
    return protected_until is not None and now >= protected_until
