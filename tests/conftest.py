"""Orders the suite so that its longest tests start first on every pytest-xdist worker, and
starts the slow, network-bound npm install early (see core.testing_npm).

``bin/test`` runs ``pytest -n 2 --dist worksteal``. Worksteal hands each worker a contiguous
chunk of the collection (the first half to one, the second half to the other), each worker runs
its chunk in order, and an idle worker steals from the *end* of the other's queue. A test that
takes a minute and happens to sit late in a chunk therefore starts late and ends the run alone
on one core. Here the known-slow tests are dealt out over the chunks (longest first, each to
the chunk with the least slow time so far) and put at the front of their chunk; the quick
tests fill the rest in their usual order, so module fixtures still see their tests together
and what is left to steal at the end is short.

``SLOW`` is a measured list: ``--durations`` of a whole ``bin/test`` run on a loaded 2-core
machine, divided by four (the load) and rounded; the numbers only rank and balance, they
change no result. A test missing from it is treated as
quick; ``pytest --durations=30`` shows what to add. Every worker computes the same order (the
controller requires identical collections), and without xdist the slow tests simply run first.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

TYPESCRIPT_PROJECT = Path(__file__).parent / "typescript"

# node id (or the part before "[" to cover every parameter) -> about its seconds on an idle machine
SLOW: dict[str, float] = {
    "tests/reliability/test_reliability_fuzz_blueprints.py::test_corrupted_blueprints_are_reported_never_crash": 24,  # per part
    "tests/reliability/test_reliability_fuzz_graphql.py::test_fuzzed_documents_never_meet_an_internal_error": 38,
    "tests/reliability/test_reliability_crash.py::test_sigkill_mid_load_then_restart_keeps_every_invariant": 36,
    "tests/components/flash_sale/test_flash_sale_gate_crash.py::test_sigkill_mid_sale_the_restarted_server_reconciles_the_gate": 25,
    "tests/reliability/test_reliability_idempotency.py::test_every_money_stock_and_points_mutation_replays_without_effect": 23,
    "tests/core/test_fresh_brand.py::test_a_fresh_brand_goes_live_with_only_the_cli_and_graphql": 23,
    "tests/core/test_timers_workers.py::test_serve_with_two_workers_seeds_a_fresh_postgresql_once_and_both_workers_start": 21,
    "tests/core/test_scaffold.py::test_a_new_component_installs_passes_its_tests_and_the_check": 20,
    "tests/components/orders/test_place_order_races.py::test_120_buyers_for_40_units_through_place_order": 17,
    "tests/hostile/test_hostile_redis_chaos.py::test_two_workers_ride_out_redis_killed_restarted_and_frozen": 16,
    "tests/components/flash_sale/test_flash_sale_races.py::test_200_buyers_for_20_units_over_http": 16,
    "tests/core/test_docs_site.py::test_the_site_builds_strictly": 15,
    "tests/core/test_timers_workers.py::test_two_worker_processes_run_each_due_timer_exactly_once": 15,
    "tests/core/test_timers_workers.py::test_two_workers_booting_at_once_on_a_fresh_database_both_start": 14,
    "tests/core/test_studio_browser.py::test_compose_check_save_preview_and_try_a_brand_in_the_browser": 13,
    "tests/core/test_example_component_wheel.py::test_the_wheel_installs_into_a_fresh_venv_and_keeps_the_contract": 12,
    "tests/components/points_mall/test_points_mall_races.py::test_60_members_race_for_an_item_with_20_in_stock": 11,
    "tests/core/test_migrations.py::test_demo_database_is_built_by_migrations_that_match_the_models": 11,
    "tests/components/live_room/test_live_room_redis.py::test_a_comment_sent_to_one_process_reaches_a_viewer_on_another": 8,
    "tests/core/test_schema_changes.py::test_cli_against_the_committed_snapshot": 7,
    "tests/components/group_buy/test_group_buy_races.py::test_twenty_payments_race_for_the_last_two_seats": 7,
    "tests/core/test_broadcast_redis.py::test_a_bid_on_one_server_process_reaches_a_subscriber_on_another": 7,
    "tests/components/live_room/test_live_room_races.py::test_racing_viewers_are_counted_exactly": 6,
    "tests/components/live_room/test_live_room_depth.py::test_live_only_stock_and_the_per_member_limit_hold_under_racing_orders": 6,
    "tests/reliability/test_reliability_timers_downtime.py::test_timers_due_during_downtime_fire_once_after_restart": 6,
    "tests/reliability/test_reliability_authorization_matrix.py::test_every_cell_of_the_matrix_holds": 9,  # per part (2)
    "tests/components/live_room/test_live_room_races.py::test_viewers_racing_the_host_get_answers_never_deadlocks": 5,
    "tests/components/bidding_sale/test_bidding_sale_races.py::test_100_bidders_race_on_one_lot": 5,
    "tests/components/coupons/test_coupons_races.py::test_60_members_claim_20_coupons": 5,
    "tests/components/points_mall/test_points_mall_races.py::test_one_member_races_40_redemptions_covered_10_times": 5,
    "tests/components/store_pickup/test_store_pickup_flow.py::test_refusals_are_typed_and_change_nothing": 4,
    "tests/components/group_buy/test_group_buy_races.py::test_one_member_racing_themself_stays_within_the_per_member_limit": 4,
}


def estimate(nodeid: str) -> float:
    """Seconds a test is known to take, or 0 for a quick one."""
    return SLOW.get(nodeid, SLOW.get(nodeid.split("[", 1)[0], 0.0))


def chunk_sizes(total: int, workers: int) -> list[int]:
    """How many tests worksteal's first hand-out gives each worker (as xdist computes it)."""
    sizes = []
    for i in range(workers):
        size = total // (workers - i)
        sizes.append(size)
        total -= size
    return sizes


def deal(items: list[Any], nodeid: Any, workers: int) -> list[Any]:
    """``items`` reordered: ``workers`` chunks, each starting with its share of the slow tests."""
    slow = sorted((i for i in items if estimate(nodeid(i)) > 0), key=lambda i: -estimate(nodeid(i)))
    quick = [i for i in items if estimate(nodeid(i)) == 0]
    sizes = chunk_sizes(len(items), workers)
    chunks: list[list[Any]] = [[] for _ in range(workers)]
    load = [0.0] * workers
    for item in slow:
        room = [w for w in range(workers) if len(chunks[w]) < sizes[w]]
        target = min(room, key=lambda w: load[w])
        chunks[target].append(item)
        load[target] += estimate(nodeid(item))
    rest = iter(quick)
    for w in range(workers):
        chunks[w].extend(next(rest) for _ in range(sizes[w] - len(chunks[w])))
    return [item for chunk in chunks for item in chunk]


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    items[:] = deal(items, lambda item: item.nodeid, max(workers, 1))


def pytest_configure(config: Any) -> None:
    """The TypeScript client check's npm packages: installing them is a minute of network on a
    fresh machine, so it starts in the background now (the test waits on its lock)."""
    if hasattr(config, "workerinput"):
        return  # a pytest-xdist worker: the controller started it already
    from core import testing_npm

    testing_npm.prefetch(TYPESCRIPT_PROJECT)
