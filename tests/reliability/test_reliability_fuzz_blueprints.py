"""Issue 9, bad input: corrupted blueprints never crash `dougong validate`.

Every blueprint in blueprints/ is corrupted at random (flipped bytes, deleted, duplicated or
truncated lines, a wrong type or an unknown key at a random path, invalid UTF-8) and checked
through the CLI in-process. The command exits 0 or 1, prints no traceback and no "internal
error", and every problem it reports names the file and a line (file:line:column).
"""

from __future__ import annotations

import os
import re
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from typer.testing import CliRunner

import core.cli
import registry.discovery

BLUEPRINTS = sorted((Path(__file__).resolve().parents[2] / "blueprints").glob("*.yaml"))
RUNNER = CliRunner()
# One budget shared by the blueprints (not per blueprint), so a new example blueprint does not
# add minutes to the suite; each still gets at least 80 corruptions.
EXAMPLES = max(80, int(os.environ.get("DOUGONG_FUZZ_BLUEPRINTS", "250")) // max(1, len(BLUEPRINTS)))
# Each blueprint's corruptions run in PARTS seeded parts (as one test the demo's was the suite's
# longest and held one worker to the end): the same number of corruptions in all, each part
# different (its own seed) and as reproducible as before, each part held to the same ratios.
PARTS = 2


@lru_cache(maxsize=1)
def _installed() -> tuple[dict, list]:
    return registry.discovery.discover()


def _paths(node: Any, path: tuple = ()) -> list[tuple]:
    """Every path to a value in a parsed YAML document (the root included)."""
    found = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, path + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _paths(value, path + (i,))
    return found


def _dump(root: Any) -> bytes:
    from io import StringIO

    out = StringIO()
    YAML(typ="rt").dump(root, out)
    return out.getvalue().encode("utf-8")


WRONG_VALUES = st.one_of(
    st.integers(-(2**70), 2**70), st.floats(), st.booleans(), st.none(), st.text(max_size=30),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=8), st.integers(), max_size=3),
    st.dates(min_value=date(1, 1, 1)), st.just("${UNSET_VARIABLE_FOR_FUZZ}"), st.just("${X:-}"),
)


@st.composite
def corruptions(draw: st.DrawFn, original: bytes) -> bytes:
    kind = draw(st.sampled_from(["flip", "delete_line", "duplicate_line", "truncate", "bad_unicode", "wrong_type", "unknown_key", "several"]))
    data = original
    lines = data.split(b"\n")
    if kind == "flip":
        i = draw(st.integers(0, len(data) - 1))
        data = data[:i] + bytes([draw(st.integers(0, 255))]) + data[i + 1:]
    elif kind == "delete_line":
        i = draw(st.integers(0, len(lines) - 1))
        data = b"\n".join(lines[:i] + lines[i + 1:])
    elif kind == "duplicate_line":
        i = draw(st.integers(0, len(lines) - 1))
        data = b"\n".join(lines[:i + 1] + lines[i:])
    elif kind == "truncate":
        data = data[: draw(st.integers(0, len(data)))]
    elif kind == "bad_unicode":
        i = draw(st.integers(0, len(data)))
        junk = draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xef\xbb\xbf", b"\x00", b"\x1b[31m", b"\xe2\x80\xae", b"\t", b"\r", b"\x85"]))
        data = data[:i] + junk + data[i:]
    elif kind in ("wrong_type", "unknown_key"):
        try:
            root = YAML(typ="rt").load(original.decode("utf-8"))
        except Exception:  # already corrupted past parsing (a step of "several"): leave it
            return original
        path = draw(st.sampled_from(_paths(root)))
        parent, last = root, None
        for step in path[:-1]:
            parent = parent[step]
        last = path[-1] if path else None
        if kind == "wrong_type" and path:
            parent[last] = draw(WRONG_VALUES)
        elif kind == "wrong_type":
            root = draw(WRONG_VALUES)
        else:
            target = parent[last] if path else root
            if isinstance(target, CommentedMap):
                target[draw(st.text(min_size=1, max_size=12))] = draw(WRONG_VALUES)
            elif isinstance(target, CommentedSeq):
                target.append(draw(WRONG_VALUES))
        try:
            data = _dump(root)
        except Exception:  # a value ruamel cannot write back (a text it cannot represent): keep the original
            data = original
    else:
        for _ in range(draw(st.integers(2, 4))):
            data = draw(corruptions(data if data else original))
    return data


def validate(path: Path) -> Any:
    return RUNNER.invoke(core.cli.app, ["validate", str(path)])


def check_result(path: Path, result: Any) -> None:
    assert result.exit_code in (0, 1), f"exit code {result.exit_code}: {result.output}"
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output and "internal error" not in result.output, result.output
    if result.exit_code == 1:
        where = re.compile(re.escape(str(path)) + r":\d+:\d+: ")
        problems = [line for line in result.output.splitlines() if line.strip() and not line.startswith("warning: ")]
        assert problems, result.output
        for line in problems:
            assert where.match(line), f"a problem without file:line: {line!r}"


@pytest.fixture(autouse=True)
def cached_discovery(monkeypatch):
    installed = _installed()
    monkeypatch.setattr(registry.discovery, "discover", lambda *a, **k: installed)


@pytest.mark.parametrize("blueprint", BLUEPRINTS, ids=lambda p: p.name)
def test_the_blueprint_itself_is_valid(blueprint, tmp_path):
    result = validate(blueprint)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("part", range(PARTS), ids=lambda i: f"part{i + 1}of{PARTS}")
@pytest.mark.parametrize("blueprint", BLUEPRINTS, ids=lambda p: p.name)
def test_corrupted_blueprints_are_reported_never_crash(blueprint, part, tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    original = blueprint.read_bytes()
    target = tmp_path / blueprint.name
    seen = {"changed": 0, "problems": 0}

    examples = -(-EXAMPLES // PARTS)

    @seed(part)
    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large])
    @given(corruptions(original))
    def check(data: bytes) -> None:
        target.write_bytes(data)
        result = validate(target)
        check_result(target, result)
        seen["changed"] += data != original
        seen["problems"] += result.exit_code == 1

    check()
    # The corruptions did corrupt: most runs changed the file and most changes were caught.
    assert seen["changed"] > examples // 2 and seen["problems"] > examples // 3, seen
