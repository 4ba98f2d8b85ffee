"""Resolution: order, pulled-in chains, and every problem kind, all reported at once."""

from __future__ import annotations

from registry import InstalledComponent, Manifest, Resolution, ResolutionProblem, resolve

KERNEL = "0.1.0"


def fake(name: str, version: str = "1.0.0", depends: dict[str, str] | None = None, kernel: str = ">=0.1") -> InstalledComponent:
    manifest = Manifest(name=name, version=version, summary=f"the {name} component", hooks=f"fake.{name}.hooks",
                        kernel=kernel, depends=depends or {})
    return InstalledComponent(manifest, module=f"fake.{name}", distribution=None)


def installed(*components: InstalledComponent) -> dict[str, InstalledComponent]:
    return {c.manifest.name: c for c in components}


SHOP = installed(
    fake("catalog"),
    fake("inventory", depends={"catalog": ">=1.0"}),
    fake("members"),
    fake("orders", "1.4.0", depends={"catalog": ">=1.0", "inventory": "", "members": ""}),
    fake("group_buy", "1.1.0", depends={"orders": ">=1.2"}),
    fake("points_mall", depends={"orders": "", "members": ""}),
)


def names(resolution: Resolution) -> list[str]:
    return [c.manifest.name for c in resolution.order]


def only(problems: list[ResolutionProblem]) -> ResolutionProblem:
    assert len(problems) == 1, problems
    return problems[0]


def test_dependencies_come_before_dependents_and_are_pulled_in():
    resolution, problems = resolve({"group_buy": None}, SHOP, KERNEL)
    assert problems == []
    assert names(resolution) == ["catalog", "inventory", "members", "orders", "group_buy"]
    assert resolution.requested == {"group_buy": None}
    assert resolution.pulled_in == {
        "orders": ("group_buy", "orders"),
        "catalog": ("group_buy", "orders", "catalog"),
        "inventory": ("group_buy", "orders", "inventory"),
        "members": ("group_buy", "orders", "members"),
    }


def test_order_is_deterministic_and_follows_the_blueprint():
    first, _ = resolve({"points_mall": None, "group_buy": ">=1.0"}, SHOP, KERNEL)
    again, _ = resolve({"points_mall": None, "group_buy": ">=1.0"}, dict(reversed(list(SHOP.items()))), KERNEL)
    assert names(first) == names(again) == ["members", "catalog", "inventory", "orders", "points_mall", "group_buy"]
    assert first.requested == {"points_mall": None, "group_buy": ">=1.0"}


def test_a_named_dependency_is_not_pulled_in():
    resolution, problems = resolve({"orders": None, "catalog": "==1.0.0"}, SHOP, KERNEL)
    assert problems == []
    assert "catalog" not in resolution.pulled_in
    assert set(resolution.pulled_in) == {"inventory", "members"}
    assert names(resolution).count("catalog") == 1


def test_unknown_component_suggests_the_closest_installed_names():
    resolution, problems = resolve({"group_by": None}, SHOP, KERNEL)
    problem = only(problems)
    assert resolution is None
    assert problem.component == "group_by" and problem.chain == ("group_by",)
    assert problem.message == "unknown component 'group_by'"
    assert problem.hint == "did you mean 'group_buy'?"
    assert str(problem) == "unknown component 'group_by' (did you mean 'group_buy'?)"


def test_unknown_component_with_nothing_close_points_at_the_list():
    problem = only(resolve({"xyz": None}, SHOP, KERNEL)[1])
    assert "dougong components" in problem.hint


def test_requested_version_range_not_satisfied():
    problem = only(resolve({"group_buy": ">=2.0"}, SHOP, KERNEL)[1])
    assert problem.component == "group_buy"
    assert problem.message == "the blueprint needs group_buy >=2.0, but 1.1.0 is installed"


def test_invalid_specifier_text():
    problem = only(resolve({"catalog": "at least one"}, SHOP, KERNEL)[1])
    assert problem.component == "catalog"
    assert "'at least one'" in problem.message and "PEP 440" in problem.message
    assert problem.hint and ">=1.0" in problem.hint


def test_missing_dependency_names_the_whole_chain():
    shop = dict(SHOP, orders=fake("orders", "1.4.0", depends={"catalog": "", "payments": ""}))
    problem = only(resolve({"group_buy": None}, shop, KERNEL)[1])
    assert problem.component == "group_buy"
    assert problem.chain == ("group_buy", "orders", "payments")
    assert problem.message.startswith("group_buy → orders → payments: 'orders' depends on 'payments'")
    assert "not installed" in problem.message


def test_dependency_version_not_satisfied_names_the_chain():
    shop = dict(SHOP, orders=fake("orders", "1.4.0", depends={"catalog": ">=2"}))
    problem = only(resolve({"group_buy": None}, shop, KERNEL)[1])
    assert problem.component == "catalog"
    assert problem.chain == ("group_buy", "orders", "catalog")
    assert problem.message == "group_buy → orders → catalog: orders needs catalog >=2, but 1.0.0 is installed"


def test_named_and_depended_on_must_satisfy_both_ranges():
    # orders 1.4.0 satisfies the blueprint's <1.5 but not group_buy's >=1.2 after the swap below.
    ok, problems = resolve({"orders": "<1.5", "group_buy": None}, SHOP, KERNEL)
    assert problems == [] and "orders" in names(ok)
    shop = dict(SHOP, orders=fake("orders", "1.0.0", depends={"catalog": ""}))
    resolution, problems = resolve({"orders": "<1.5", "group_buy": None}, shop, KERNEL)
    problem = only(problems)
    assert resolution is None
    assert problem.component == "orders" and problem.chain == ("group_buy", "orders")
    assert "group_buy needs orders >=1.2, but 1.0.0 is installed" in problem.message


def test_cycle_prints_the_chain():
    loop = installed(fake("a", depends={"b": ""}), fake("b", depends={"c": ""}), fake("c", depends={"a": ""}))
    problem = only(resolve({"a": None}, loop, KERNEL)[1])
    assert problem.chain == ("a", "b", "c", "a")
    assert problem.message == "dependency cycle: a → b → c → a"


def test_self_dependency_is_a_cycle():
    problem = only(resolve({"a": None}, installed(fake("a", depends={"a": ""})), KERNEL)[1])
    assert problem.message == "dependency cycle: a → a"


def test_kernel_range_not_accepting_this_kernel():
    problem = only(resolve({"future": None}, installed(fake("future", "3.0.0", kernel=">=2,<3")), KERNEL)[1])
    assert problem.component == "future"
    assert problem.message == "future 3.0.0 works with kernel >=2,<3, but this kernel is 0.1.0"
    assert "kernel 0.1.0" in problem.hint


def test_kernel_range_of_a_pulled_in_component_names_the_chain():
    shop = dict(SHOP, members=fake("members", kernel="<0.1"))
    problem = only(resolve({"points_mall": None}, shop, KERNEL)[1])
    assert problem.component == "members" and problem.chain == ("points_mall", "members")


def test_invalid_kernel_range_of_a_component():
    problem = only(resolve({"odd": None}, installed(fake("odd", kernel="recent")), KERNEL)[1])
    assert "invalid kernel range 'recent'" in problem.message


def test_every_problem_is_reported_at_once():
    shop = dict(
        SHOP,
        loop_a=fake("loop_a", depends={"loop_b": ""}),
        loop_b=fake("loop_b", depends={"loop_a": ""}),
        needs_ghost=fake("needs_ghost", depends={"ghost": ""}),
        future=fake("future", kernel=">=9"),
    )
    requested = {"nope": None, "group_buy": ">=5", "loop_a": None, "needs_ghost": None, "future": None, "catalog": "~~"}
    resolution, problems = resolve(requested, shop, KERNEL)
    assert resolution is None
    by_component = {p.component: p.message for p in problems}
    assert set(by_component) == {"nope", "group_buy", "loop_a", "needs_ghost", "future", "catalog"}
    assert len(problems) == 6


def test_empty_request_resolves_to_nothing():
    resolution, problems = resolve({}, SHOP, KERNEL)
    assert problems == [] and resolution.order == [] and resolution.pulled_in == {}
