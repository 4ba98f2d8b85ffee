"""Share codes as plain functions: what a code proves, and the one rule for a client's claim."""

from __future__ import annotations

import pytest

from components.members.share_codes import GUIDE_INACTIVE, SELF_SHARE, Credit, Holder, decide, derive_key, parse, sign
from core.errors import DomainError

KEY = derive_key("s" * 48)


def test_a_code_names_its_holder_and_nothing_else_verifies():
    code = sign(KEY, "tea", "member", 12345)
    assert parse(KEY, "tea", code) == Holder("member", 12345)
    assert parse(KEY, "tea", sign(KEY, "tea", "guide", 7)) == Holder("guide", 7)
    assert len(sign(KEY, "tea", "guide", 2**63 - 1)) <= 32  # fits a mini-program QR scene
    forged = [
        code[:-1] + ("A" if code[-1] != "A" else "B"),  # tampered MAC
        "g" + code[1:],  # the kind swapped
        code.replace("m9ix", "m9iy"),  # another id, same MAC
        "m0" + code[1:],  # a second spelling of the id
        sign(KEY, "coffee", "member", 12345),  # another brand, same secret
        sign(derive_key("t" * 48), "tea", "member", 12345),  # another secret
        code + "=", " " + code, code.upper(), "", "m.", "x1.AAAAAAAAAAAAAAAA", "ｍ" + code[1:],
    ]
    for text in forged:
        assert parse(KEY, "tea", text) is None, text
    assert parse(KEY, "tea", None) is None  # type: ignore[arg-type]


def _decide(**claim):  # noqa: ANN003, ANN202
    base = dict(buyer_id=2, code=None, holder=None, holder_eligible=False, sharer_member_id=None, sharer_exists=False,
                guide_id=None, guide_eligible=False, field="input.source")
    return decide(**{**base, **claim})


def _refused(error: str, field: str, **claim) -> None:  # noqa: ANN003
    with pytest.raises(DomainError) as caught:
        _decide(**claim)
    assert (caught.value.code, caught.value.field) == (error, field)


def test_the_rule_for_what_a_client_claims():
    member_a = dict(code="m1.x", holder=Holder("member", 1), holder_eligible=True)
    guide_5 = dict(code="g5.x", holder=Holder("guide", 5), holder_eligible=True)
    assert _decide() == Credit()
    assert _decide(**member_a) == Credit(sharer_member_id=1, share_code="m1.x")
    assert _decide(**member_a, sharer_member_id=1, sharer_exists=True) == Credit(sharer_member_id=1, share_code="m1.x")
    assert _decide(**guide_5, guide_id=5, guide_eligible=True) == Credit(guide_id=5, share_code="g5.x")
    assert _decide(guide_id=5, guide_eligible=True) == Credit(guide_id=5)
    assert _decide(**member_a, guide_id=5, guide_eligible=True) == Credit(sharer_member_id=1, guide_id=5, share_code="m1.x")
    # A valid code that can credit nobody: the purchase goes on, the reason is kept.
    assert _decide(**member_a, buyer_id=1) == Credit(share_code="m1.x", refused=SELF_SHARE)
    assert _decide(**{**guide_5, "holder_eligible": False}) == Credit(share_code="g5.x", refused=GUIDE_INACTIVE)
    # What no genuine frontend sends is refused.
    _refused("MEMBERS_INVALID_SHARE_CODE", "input.source.shareCode", code="m1.forged")
    _refused("MEMBERS_INVALID_SHARE_CODE", "input.source.shareCode", **{**member_a, "holder_eligible": False})
    _refused("MEMBERS_UNPROVEN_SHARER", "input.source.sharerMemberId", sharer_member_id=1, sharer_exists=True)
    _refused("MEMBERS_UNPROVEN_SHARER", "input.source.sharerMemberId", **member_a, sharer_member_id=3, sharer_exists=True)
    _refused("MEMBERS_UNPROVEN_SHARER", "input.source.sharerMemberId", **guide_5, sharer_member_id=5, sharer_exists=True)
    _refused("MEMBERS_NOT_A_GUIDE", "input.source.guideId", guide_id=5, guide_eligible=False)
    _refused("MEMBERS_NOT_A_GUIDE", "input.source.guideId", **guide_5, guide_id=6, guide_eligible=True)
