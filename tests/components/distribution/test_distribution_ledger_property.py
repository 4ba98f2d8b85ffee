"""Exactness: over random programs of orders, partial refunds (before and after settling),
completions and withdrawals, after every step each promoter's balances equal the sums of
their ledger entries AND what an independent model of the rules says they should be.

The programs are drawn by hypothesis (derandomized: a failure reproduces), then run against
one kernel, two levels deep: buyer 3 → promoter 2 → promoter 1."""

from __future__ import annotations

from dataclasses import dataclass, field

from distribution_helpers import WITHDRAW, admin, balances, buy, code_of, finish, pass_window, promote, refund, start
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.gql.relay import to_global_id
from core.testing import member

PRICE = {1: 10000, 2: 20000}  # the shop's two SKUs (sku key → unit price)
FIXED = 300  # SKU 1 at level one: ¥3 a unit; everything else the defaults below
BPS = {1: 500, 2: 200}
PROGRAMS = 3

OPS = st.one_of(
    st.tuples(st.just("buy"), st.integers(1, 3), st.integers(0, 2)),
    st.tuples(st.just("refund"), st.integers(0, 50), st.integers(0, 1), st.integers(1, 3)),
    st.tuples(st.just("complete"), st.integers(0, 50)),
    st.tuples(st.just("withdraw"), st.integers(1, 3000)),
    st.tuples(st.just("review"), st.booleans()),
)


def drawn_programs() -> list[list[tuple]]:
    """Draw 40 programs (cheap: no kernel) and run the PROGRAMS most varied: hypothesis starts
    from the simplest ones, which would spend the test's time on buys alone."""
    found: list[list[tuple]] = []

    @settings(max_examples=40, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(st.lists(OPS, min_size=5, max_size=7))
    def collect(program: list[tuple]) -> None:
        found.append(program)

    collect()
    chosen: dict[tuple, list[tuple]] = {}
    for program in sorted(found, key=lambda program: (-len({op[0] for op in program}), -len(program))):
        chosen.setdefault(tuple(op[0] for op in program), program)  # distinct shapes only
    return list(chosen.values())[:PROGRAMS]


def rate(sku: int, level: int, paid: int, units: int) -> int:
    """The rules as the README writes them, independently of components/distribution/rules.py."""
    if paid <= 0 or units <= 0:
        return 0
    raw = FIXED * units if (sku == 1 and level == 1) else paid * BPS[level] // 10000
    return min(raw, paid)


@dataclass
class Line:
    id: str
    sku: int
    quantity: int
    total: int
    refunded_units: int = 0
    refunded: int = 0


@dataclass
class Model:
    orders: list[dict] = field(default_factory=list)  # {"id", "lines", "state": paid|settled}
    available: dict[int, int] = field(default_factory=lambda: {1: 0, 2: 0})
    requested: list[tuple[str, int]] = field(default_factory=list)

    def commission(self, line: Line, level: int) -> int:
        return rate(line.sku, level, line.total - line.refunded, line.quantity - line.refunded_units)

    def frozen(self) -> dict[int, int]:
        out = {1: 0, 2: 0}
        for order in self.orders:
            if order["state"] == "paid":
                for line in order["lines"]:
                    out[2] += self.commission(line, 1)
                    out[1] += self.commission(line, 2)
        return out


async def test_the_ledger_equals_the_balances_and_the_model_after_every_step(kernel_factory, graphql):
    kernel, shop = await start(kernel_factory, 'eligibility: everyone, levels: 2, withdrawal_minimum: "0.01"')
    await promote(kernel, 1, 2)
    staff_client = admin(graphql, kernel)
    await staff_client.mutate("""mutation($sku: ID!) { setCommissionRule(input: {skuId: $sku, level: 1, kind: FIXED, value: 300}) {
        userErrors { code } } }""", sku=shop.sku)
    await graphql(kernel, member(2)).mutate('mutation($c: String!) { bindPromoter(input: {shareCode: $c}) { bound } }',
                                            c=await code_of(kernel, 1))
    code = await code_of(kernel, 2)
    buyer, promoter = graphql(kernel, member(3)), graphql(kernel, member(2))
    skus = {1: shop.sku, 2: to_global_id("Sku", shop.second_sku_id)}
    model = Model()
    steps, did = 0, set()
    for program in drawn_programs():
        for op in program:
            if await run(op, model, kernel, buyer, promoter, staff_client, skus, code):
                did.add(op[0])
            steps += 1
            frozen = model.frozen()
            for member_id in (1, 2):
                got = await balances(kernel, member_id)  # asserts the ledger sums on the way
                assert (got["frozen"], got["available"]) == (frozen[member_id], model.available[member_id]), (op, member_id)
    assert steps >= PROGRAMS * 4
    assert {"buy", "refund", "complete", "withdraw"} <= did, did  # the programs reached every kind of step


async def run(op: tuple, model: Model, kernel, buyer, promoter, staff_client, skus, code) -> bool:
    """One step against the kernel and the model; False when it had nothing to act on."""
    kind = op[0]
    if kind == "buy":
        _, first_units, second_units = op
        extra = [{"skuId": skus[2], "quantity": second_units}] if second_units else []
        order = await buy(buyer, skus[1], first_units, code=code, extra_lines=extra)
        quantities = [(1, first_units)] + ([(2, second_units)] if second_units else [])
        lines = [Line(id=placed["id"], sku=sku, quantity=n, total=placed["total"]["amountMinor"])
                 for placed, (sku, n) in zip(order["lines"], quantities, strict=True)]
        assert [line.total for line in lines] == [PRICE[sku] * n for sku, n in quantities]
        model.orders.append({"id": order["id"], "lines": lines, "state": "paid", "completed": False})
    elif kind == "refund" and model.orders:
        _, which, line_index, units = op
        order = model.orders[which % len(model.orders)]
        line = order["lines"][line_index % len(order["lines"])]
        left = line.quantity - line.refunded_units
        if left == 0:
            return False
        units = min(units, left)
        before = {lvl: model.commission(line, lvl) for lvl in (1, 2)}
        worth = line.total - line.refunded if units == left else (line.total // line.quantity) * units
        assert await refund(kernel, order["id"], [(line.id, units)]) == worth
        line.refunded_units += units
        line.refunded += worth
        if order["state"] == "settled":  # a clawback from the available balance
            model.available[2] -= before[1] - model.commission(line, 1)
            model.available[1] -= before[2] - model.commission(line, 2)
    elif kind == "complete" and model.orders:
        order = model.orders[op[1] % len(model.orders)]
        if order["completed"] or all(line.refunded_units == line.quantity for line in order["lines"]):
            return False
        await finish(kernel, order["id"])
        order["completed"] = True
        await pass_window(kernel)
        for each in model.orders:
            if each["completed"] and each["state"] == "paid":
                each["state"] = "settled"
                model.available[2] += sum(model.commission(line, 1) for line in each["lines"])
                model.available[1] += sum(model.commission(line, 2) for line in each["lines"])
    elif kind == "withdraw":
        result = await promoter.mutate(WITHDRAW, amount=op[1])
        if op[1] <= model.available[2]:
            assert result["userErrors"] == [], result
            model.available[2] -= op[1]
            model.requested.append((result["withdrawal"]["id"], op[1]))
        else:
            assert result["userErrors"][0]["code"] == "DISTRIBUTION_INSUFFICIENT_BALANCE"
    elif kind == "review" and model.requested:
        withdrawal, amount = model.requested.pop()
        reviewed = await staff_client.mutate("""mutation($id: ID!, $ok: Boolean!) { reviewWithdrawal(input: {withdrawalId: $id,
            approve: $ok, reason: "no"}) { withdrawal { status } userErrors { code } } }""", id=withdrawal, ok=op[1])
        assert reviewed["withdrawal"]["status"] == ("PAID" if op[1] else "REJECTED"), reviewed
        if not op[1]:
            model.available[2] += amount
    else:
        return False
    return True
