"""The suite's ordering (tests/conftest.py): slow tests first in every worker's chunk."""

from __future__ import annotations

import importlib.util
from pathlib import Path

spec = importlib.util.spec_from_file_location("suite_order", Path(__file__).resolve().parents[1] / "conftest.py")
order = importlib.util.module_from_spec(spec)
spec.loader.exec_module(order)

SCAFFOLD = "tests/core/test_scaffold.py::test_a_new_component_installs_passes_its_tests_and_the_check"
BRAND = "tests/core/test_fresh_brand.py::test_a_fresh_brand_goes_live_with_only_the_cli_and_graphql"
CRASH = "tests/reliability/test_reliability_crash.py::test_sigkill_mid_load_then_restart_keeps_every_invariant"


def test_chunks_are_the_sizes_worksteal_hands_out():
    assert order.chunk_sizes(11, 2) == [5, 6]
    assert order.chunk_sizes(10, 3) == [3, 3, 4]
    assert sum(order.chunk_sizes(937, 2)) == 937


def test_each_worker_s_chunk_starts_with_its_share_of_the_slow_tests(monkeypatch):
    monkeypatch.setattr(order, "SLOW", {SCAFFOLD: 20, BRAND: 18, CRASH: 11})
    quick = [f"tests/q/test_{i}.py::test_it" for i in range(20)]
    items = quick[:7] + [CRASH + "[sqlite]"] + quick[7:12] + [SCAFFOLD] + quick[12:] + [BRAND, CRASH + "[postgresql]"]
    dealt = order.deal(items, str, 2)
    assert sorted(dealt) == sorted(items)  # nothing lost or doubled
    first, second = dealt[:12], dealt[12:]
    # The two longest go to different workers, each at the front of its chunk.
    assert {first[0], second[0]} == {SCAFFOLD, BRAND}
    assert {first[1], second[1]} == {CRASH + "[sqlite]", CRASH + "[postgresql]"}
    # The quick tests keep their order (module fixtures see their tests together).
    assert [i for i in dealt if i in quick] == quick


def test_without_workers_the_slow_tests_run_first(monkeypatch):
    monkeypatch.setattr(order, "SLOW", {SCAFFOLD: 20})
    items = ["tests/a.py::test_quick", SCAFFOLD, "tests/b.py::test_quick"]
    assert order.deal(items, str, 1) == [SCAFFOLD, "tests/a.py::test_quick", "tests/b.py::test_quick"]
