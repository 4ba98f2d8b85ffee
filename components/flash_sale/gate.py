"""The optional Redis gate in front of a flash sale's database rows.

Large flash sales put a counter in Redis and let a Lua script pre-decrement it, so the crowd
beyond the stock is refused in one Redis round trip, without a database connection, a
transaction or a row lock. Here the **database stays the source of truth**: a buyer who
passes the gate still goes through the guarded UPDATEs of the checkout, so the gate can only
ever *refuse too few* (never sell too many).

What can go wrong and why it is harmless:

- **Redis is down or restarted** (the key is gone): ``take`` answers ``None`` ("don't know")
  and the database decides alone; the next reconciliation seeds the key again.
- **A buyer passed the gate, then the checkout refused** for a reason other than sold out
  (the member's limit, the session ended, the database unavailable): ``buyFlashSaleItem``
  gives the units back at once
  (:meth:`RedisGate.give_back`, only to a key that still exists, so a restarted Redis is never
  seeded with a wrong count). The passed key stays remembered: a retry with it is a replay to
  the gate and reaches the database without taking again — the gate may stand above the truth,
  never below. A sold-out refusal keeps the units: the gate stood above the truth (after a
  crash's retries) and drains to it.
- **A buyer passed the gate, then the server was SIGKILLed**: the
  gate is now lower than the database's units left (units would be stranded). The recurring
  job ``flash_sale.reconcile_gate`` (and every worker's start) sets each running item's key to
  ``quantity - sold`` read from the database. Units held by transactions still in flight are
  not yet in ``sold``, so the value can only be too high for a moment — more buyers reach the
  database, whose guard refuses them — never too low for longer than one period.
- **A replay** of a buyer who passed (same idempotency key) must reach the database to get its
  first answer back: the script remembers passed keys per item and answers "replay".
  After a crash, a buyer who passed and was cut off before its order committed retries with the
  same key: a replay to the gate, so it buys without taking from the gate again and the gate
  stands above the truth (the safe side) until the crowd drains it or the next reconciliation.
  The gate cannot tell that retry from a replay of a committed order, and taking from it for
  the latter would strand a unit, or refuse the replay its order once the gate is at 0.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger("dougong.flash_sale.gate")

PASSED, REFUSED, UNKNOWN, REPLAY = "passed", "refused", "unknown", "replay"
TIMEOUT = 2.0  # seconds: a slow Redis must not hold the crowd for long; the database decides instead
KEYS_TTL = 86400

_TAKE = """
if ARGV[2] ~= '' and redis.call('SISMEMBER', KEYS[2], ARGV[2]) == 1 then return 2 end
local left = redis.call('GET', KEYS[1])
if not left then return -1 end
if tonumber(left) >= tonumber(ARGV[1]) then
  redis.call('DECRBY', KEYS[1], ARGV[1])
  if ARGV[2] ~= '' then
    redis.call('SADD', KEYS[2], ARGV[2])
    redis.call('EXPIRE', KEYS[2], ARGV[3])
  end
  return 1
end
return 0
"""
_ANSWERS = {1: PASSED, 0: REFUSED, -1: UNKNOWN, 2: REPLAY}
_GIVE_BACK = """
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('INCRBY', KEYS[1], ARGV[1]) end
return -1
"""


class RedisGate:
    def __init__(self, url: str, prefix: str) -> None:
        import redis.asyncio as redis

        self._redis = redis.from_url(url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT)
        self._prefix = f"{prefix}flash_sale:"
        self._take = self._redis.register_script(_TAKE)
        self._give_back = self._redis.register_script(_GIVE_BACK)

    def key(self, item_id: int) -> str:
        return f"{self._prefix}left:{item_id}"

    async def take(self, item_id: int, units: int, replay_key: str | None = None) -> str:
        """PASSED (units taken from the gate), REFUSED (sold out: refuse without the database),
        REPLAY (this key passed before) or UNKNOWN (no key, or Redis unreachable)."""
        try:
            answer = await self._take(keys=[self.key(item_id), f"{self._prefix}passed:{item_id}"], args=[units, replay_key or "", KEYS_TTL])
        except Exception as error:  # noqa: BLE001 — any Redis trouble means "ask the database"
            log.warning("flash-sale gate unreachable (%s); the database decides", type(error).__name__)
            return UNKNOWN
        return _ANSWERS.get(int(answer), UNKNOWN)

    async def give_back(self, item_id: int, units: int) -> bool:
        """Return ``units`` a buyer took from the gate whose checkout then refused; False when the
        key is gone (Redis restarted: the next reconciliation seeds it) or Redis is away."""
        try:
            return int(await self._give_back(keys=[self.key(item_id)], args=[units])) >= 0
        except Exception as error:  # noqa: BLE001 — the reconcile job sets it right anyway
            log.warning("flash-sale gate: units not given back (%s); the next reconciliation will", type(error).__name__)
            return False

    async def set_left(self, left_by_item: dict[int, int]) -> bool:
        """Reconcile: each item's key becomes the database's units left. False if Redis is away."""
        if not left_by_item:
            return True
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for item_id, left in left_by_item.items():
                    pipe.set(self.key(item_id), max(0, left), ex=KEYS_TTL)
                await pipe.execute()
        except Exception as error:  # noqa: BLE001
            log.warning("flash-sale gate not reconciled (%s); it will be on the next run", type(error).__name__)
            return False
        return True

    async def left(self, item_id: int) -> int | None:
        value = await self._redis.get(self.key(item_id))
        return int(value) if value is not None else None

    async def close(self) -> None:
        await self._redis.aclose()


def gate_for(kernel: Any, settings: Any) -> RedisGate | None:
    """The gate when the blueprint asks for it and configures Redis; else None (database only)."""
    if not (settings.get("redis_gate") or {}).get("enabled"):
        return None
    url = getattr(kernel, "redis_url", None)
    if not url:
        log.warning("flash_sale.redis_gate is enabled but the blueprint configures no Redis; the database decides alone")
        return None
    return RedisGate(url, kernel.redis_prefix)
