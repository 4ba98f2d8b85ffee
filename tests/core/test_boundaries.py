"""Component boundaries, enforced: import-linter contracts generated from the installed
manifests (see core/boundaries.py for the rule), and a scan for SQL naming another
component's tables.

Each contract is its own test case, so a failure names the component that crossed and
import-linter's report lists every offending import with its line.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from core.boundaries import Boundaries, build, contracts_ini
from registry.discovery import discover

ROOT = Path(__file__).resolve().parents[2]
INSTALLED, _problems = discover()
BOUNDARIES: Boundaries = build(INSTALLED)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Run every contract once with ``lint-imports``; contract key -> its section of the report
    ("" when kept). One run builds the import graph once for all of them."""
    folder = tmp_path_factory.mktemp("importlinter")
    config = folder / "contracts.ini"
    config.write_text(contracts_ini(BOUNDARIES), encoding="utf-8")
    lint = Path(sys.executable).with_name("lint-imports")
    # A wide terminal: the report wraps at the width, and a long component name (guide_attribution)
    # would split its verdict over two lines.
    wide = {**os.environ, "COLUMNS": "1000"}
    done = subprocess.run([str(lint), str(config), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300, env=wide)
    out = done.stdout
    assert re.search(r"^Contracts: \d+ kept, \d+ broken\.$", out, re.M), done.stdout + done.stderr  # it ran
    sections: dict[str, str] = {}
    for contract in BOUNDARIES.contracts:
        kept = re.search(rf"^{re.escape(contract.name)} KEPT$", out, re.M)
        broken = re.search(rf"^{re.escape(contract.name)}\n-+\n(.*?)(?=^\S[^\n]*\n-{{3,}}\n|\Z)", out, re.M | re.S)
        if kept:
            sections[contract.key] = ""
        else:
            assert broken, f"no verdict for {contract.name!r} in the report:\n{out}"
            sections[contract.key] = broken.group(1).strip()
    return sections


def test_every_installed_component_has_a_contract() -> None:
    covered = {c.key for c in BOUNDARIES.contracts}
    assert covered == {"kernel", *INSTALLED}, "a component without a contract would be unguarded"


def test_the_contracts_follow_the_manifests() -> None:
    """The generated rule, checked on what it says rather than on today's code."""
    by_key = {c.key: c for c in BOUNDARIES.contracts}
    group_buy = set(by_key["group_buy"].forbidden)
    assert "components.orders.models" in group_buy and "components.orders.service" in group_buy
    assert "components.orders.graphql" not in group_buy and "components.orders" not in group_buy  # public, a dependency
    assert "components.catalog.models" in group_buy  # reached through orders' dependencies: still private
    assert "components.live_room" in group_buy  # not a dependency at all
    assert set(by_key["kernel"].forbidden) == {c.module for c in INSTALLED.values()}
    assert BOUNDARIES.depends["group_buy"] >= {"orders", "catalog", "inventory", "members"}


@pytest.mark.parametrize("key", [c.key for c in BOUNDARIES.contracts])
def test_boundary_contract(report: dict[str, str], key: str) -> None:
    if report[key]:  # the report itself, not a diff against "": it lists each import and its line
        pytest.fail(f"boundary crossed ({key}):\n{report[key]}", pytrace=False)


# -- SQL naming another component's tables --------------------------------------------------------

SQL = re.compile(r"""(?:\b(?:from|join|update|into|table)\s+["'`]?|\btable\(\s*["'])([a-z][a-z0-9_]*)""", re.I)


def owner(table: str) -> str | None:
    """The component whose prefix the table carries (the longest matching name wins)."""
    names = [n for n in INSTALLED if table.startswith(n + "_")]
    return max(names, key=len) if names else None


def sql_crossings() -> list[str]:
    found = []
    for name, component in sorted(INSTALLED.items()):
        package = Path(__import__(component.module, fromlist=["_"]).__file__).parent
        for source in sorted(package.rglob("*.py")):
            if "migrations" in source.parts:
                continue  # a component's own migrations name only its own tables
            for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), 1):
                for match in SQL.finditer(line):
                    other = owner(match.group(1).lower())
                    if other is not None and other != name:
                        found.append(f"{name}: {source.relative_to(ROOT)}:{number} names {match.group(1)} ({other}'s table)")
    return found


def test_sql_scan_catches_a_crossing() -> None:
    assert SQL.search('text("UPDATE orders_order SET status = :s")').group(1) == "orders_order"
    assert SQL.search("sa.table('catalog_sku', column('id'))").group(1) == "catalog_sku"
    assert owner("store_pickup_store") == "store_pickup" and owner("kernel_event") is None


def test_no_component_writes_sql_against_another_components_tables() -> None:
    crossings = sql_crossings()
    assert crossings == [], "\n".join(crossings)
