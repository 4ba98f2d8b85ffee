"""The pure rules: precedence, binding protection, store codes (no kernel: milliseconds)."""

from datetime import datetime, timedelta, timezone

from components.guide_attribution import store_codes
from components.guide_attribution.binding_rules import PERMANENT, PROTECTED, Rules, may_rebind
from components.guide_attribution.precedence import Claims, Reason, attribute

NOW = datetime(2026, 3, 1, tzinfo=timezone.utc)
STORES = {7: 70, 8: None, 9: 90}


def test_each_rule_outranks_every_rule_below_it():
    everything = Claims(placed_by_guide=7, code_guide=8, code_sharer=11, room_guide=9, room_sharer=12, bound_guide=9,
                        bound_store=91, pickup_store=5)
    assert attribute(everything, STORES).reason is Reason.GUIDE_PLACED
    assert attribute(everything, STORES).guide_id == 7 and attribute(everything, STORES).store_id == 70
    no_placing = Claims(**{**everything.__dict__, "placed_by_guide": None})
    credit = attribute(no_placing, STORES)
    assert (credit.reason, credit.guide_id, credit.sharer_member_id) == (Reason.SHARE_CODE, 8, 11)
    assert credit.store_id == 5  # guide 8 has no store: the pickup store
    no_code = Claims(**{**no_placing.__dict__, "code_guide": None, "code_sharer": None})
    assert (attribute(no_code, STORES).reason, attribute(no_code, STORES).sharer_member_id) == (Reason.LIVE_ROOM_SHARER, 12)
    no_room = Claims(**{**no_code.__dict__, "room_guide": None, "room_sharer": None})
    credit = attribute(no_room, STORES)
    assert (credit.reason, credit.guide_id, credit.store_id) == (Reason.BOUND_GUIDE, 9, 91)  # the binding's store
    unbound = Claims(pickup_store=5)
    assert (attribute(unbound, STORES).reason, attribute(unbound, STORES).store_id) == (Reason.PICKUP_STORE, 5)
    assert attribute(Claims(), STORES).reason is Reason.NONE


def test_a_bound_guide_without_a_bound_store_brings_the_guides_store():
    assert attribute(Claims(bound_guide=7), STORES).store_id == 70
    assert attribute(Claims(bound_store=3), STORES).guide_id is None


def test_permanent_bindings_never_rebind_and_protected_ones_after_the_protection():
    permanent, protected = Rules(PERMANENT), Rules(PROTECTED, protect_days=10)
    assert permanent.protected_until(NOW) is None
    until = protected.protected_until(NOW)
    assert until == NOW + timedelta(days=10)
    assert not may_rebind(permanent, protected_until=None, now=NOW + timedelta(days=999), same_holder=False)
    assert not may_rebind(protected, protected_until=until, now=until - timedelta(seconds=1), same_holder=False)
    assert may_rebind(protected, protected_until=until, now=until, same_holder=False)
    assert not may_rebind(protected, protected_until=until, now=until, same_holder=True)  # rescanning keeps the binding


def test_store_codes_verify_only_for_their_brand_and_resist_tampering():
    key = store_codes.derive_key("secret")
    code = store_codes.sign(key, "tea", 42)
    assert len(code) <= 31 and code.startswith("s")
    assert store_codes.parse(key, "tea", code) == 42
    assert store_codes.parse(key, "coffee", code) is None
    assert store_codes.parse(store_codes.derive_key("other"), "tea", code) is None
    assert store_codes.parse(key, "tea", "s" + "0" + code[1:]) is None  # a second spelling of the id
    assert store_codes.parse(key, "tea", code[:-1] + ("A" if code[-1] != "A" else "B")) is None
    assert store_codes.parse(key, "tea", "g1." + code.split(".")[1]) is None
