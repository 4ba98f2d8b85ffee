"""``pytest --dougong-check NAME``: the conformance check of :mod:`core.conformance` as a
pytest option of dougong's plugin, for a component's own CI (``pytest --dougong-check checkin``).
Each failure is printed as ``where: [rule] message`` in the summary and fails the run."""

from __future__ import annotations

from typing import Any

import pytest

_FAILURES = pytest.StashKey[dict]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("dougong").addoption(
        "--dougong-check",
        action="append",
        default=[],
        metavar="COMPONENT",
        help="also check the installed component COMPONENT against the component contract (repeatable)",
    )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    names = session.config.getoption("dougong_check")
    if not names:
        return
    from core.conformance.run import check_many

    failures = check_many(list(names))
    session.config.stash[_FAILURES] = failures
    if any(failures.values()):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    failures = config.stash.get(_FAILURES, None)
    if failures is None:
        return
    terminalreporter.section("dougong check")
    for name, found in failures.items():
        for failure in found:
            terminalreporter.write_line(str(failure), red=True)
        terminalreporter.write_line(f"{name}: {len(found)} failure(s)" if found else f"{name}: ok", red=bool(found), green=not found)
