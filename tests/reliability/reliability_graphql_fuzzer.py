"""GraphQL fuzzing of a whole booted schema: shared by the test and ``bench/fuzz_graphql.py``.

Documents come from hypothesis-graphql, built from the schema the kernel serves at run time
(every root field and input type of every loaded component, so a component added to the
blueprint is fuzzed without touching this file). Ids are mostly real global ids of seeded
objects, so resolvers go past "not a valid id" into the services; the rest is garbage.

Every response is judged by :func:`problems_in`: never a non-JSON answer or a 5xx, never an
"Internal error", and every execution error carries a code from the schema's ``ErrorCode``
enum. Errors logged by the kernel while a document ran count as failures too: an exception
swallowed into a log line is still an unhandled exception.
"""

from __future__ import annotations

import asyncio
import logging
import string
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import graphql
import httpx
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema, mutations, nodes, queries

from core.clock import MovableClock
from core.gql.relay import to_global_id
from core.testing import member, staff

DEMO = Path(__file__).resolve().parents[2] / "blueprints" / "demo.yaml"

# Who sends the documents: the demo data's member 1, admin staff 1, clerk staff 2 (store 1).
ACTORS = {
    "anonymous": None,
    "member": member(1),
    "admin": staff(1, "admin"),
    "clerk": staff(2, "store_clerk", stores=(1,)),
}


class _Recorder(logging.Handler):
    """Collects ERROR records of the kernel's loggers while a document runs."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _garbage_ids() -> list[str]:
    return [
        "", " ", "0", "-1", "null", "=", "===", "Zm9v", "not-an-id", "💥",
        to_global_id("Product", "-1"), to_global_id("Product", "0"), to_global_id("Product", "1.5"),
        to_global_id("Product", 10**30), to_global_id("Product", "١٢"),  # Arabic-Indic digits pass str.isdigit
        to_global_id("NoSuchType", 1), to_global_id("", 1), to_global_id("Order", ""),
        to_global_id("Order", " 1"), "T3JkZXI6MQ==", "T3JkZXI6MQ", "T3JkZXI6MQ===",
    ]


def id_values(node_types: list[str], per_type: int = 6) -> list[str]:
    """Global ids of the first few objects of every node type (seeded ones exist) and garbage."""
    real = [to_global_id(name, pk) for name in node_types for pk in range(1, per_type + 1)]
    return real + _garbage_ids()


def _json_values() -> st.SearchStrategy[graphql.ValueNode]:
    leaves = st.one_of(
        st.integers(-(2**31), 2**31 - 1).map(nodes.Int),
        st.floats(allow_nan=False, allow_infinity=False).map(nodes.Float),
        st.text(max_size=20).map(nodes.String),
        st.booleans().map(nodes.Boolean),
        st.just(nodes.Null),
    )
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4).map(nodes.List),
            st.dictionaries(st.text(string.ascii_letters, min_size=1, max_size=8), inner, max_size=4).map(
                lambda d: nodes.Object([graphql.ObjectFieldNode(name=graphql.NameNode(value=k), value=v) for k, v in d.items()])
            ),
        ),
        max_leaves=8,
    )


def custom_scalars(node_types: list[str]) -> dict[str, st.SearchStrategy[graphql.ValueNode]]:
    ids = id_values(node_types)
    now = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)
    moments = st.one_of(
        st.integers(-400 * 24, 400 * 24).map(lambda h: (now + timedelta(hours=h)).isoformat()),
        st.datetimes(timezones=st.just(timezone.utc)).map(datetime.isoformat),
        st.datetimes().map(datetime.isoformat),  # naive: no time zone
        st.sampled_from(["", "now", "2026-13-01T00:00:00Z", "2026-12-01", "9999-12-31T23:59:59+14:00", "0001-01-01T00:00:00Z"]),
    )
    return {
        "ID": st.one_of(st.sampled_from(ids), st.sampled_from(ids), st.text(max_size=12)).map(nodes.String),
        "Long": st.one_of(
            st.integers(-5, 10**6),
            st.sampled_from([0, -1, 10**12, 10**13, 10**13 + 1, 2**53, 2**63 - 1, -(2**63)]),
            st.integers(-(2**63), 2**63 - 1),
        ).map(nodes.Int),
        "DateTime": moments.map(nodes.String),
        # Calendar days (insights periods): mostly near the demo's data, some far or malformed.
        "Date": st.one_of(
            st.integers(-400, 400).map(lambda d: (now.date() + timedelta(days=d)).isoformat()),
            st.dates().map(date.isoformat),
            st.sampled_from(["", "2026-02-30", "2026-12-01T00:00:00Z", "0001-01-01", "9999-12-31", "yesterday", "2026-1-5"]),
        ).map(nodes.String),
        "JSON": _json_values(),
    }


def documents(schema: graphql.GraphQLSchema, node_types: list[str]) -> st.SearchStrategy[str]:
    """Queries and mutations that pass validation, mixed with ones that break it once.

    One strategy per root field: a document naming one root field is drawn several times
    faster than one over all of them (hypothesis-graphql overruns its data budget often on a
    schema this size), and every root field gets an even share of the documents.
    """
    scalars = custom_scalars(node_types)
    valid = [queries(schema, fields=[name], custom_scalars=scalars) for name in sorted(schema.query_type.fields)]
    if schema.mutation_type is not None:
        valid += [mutations(schema, fields=[name], custom_scalars=scalars) for name in sorted(schema.mutation_type.fields)]
    invalid = from_schema(schema, custom_scalars=scalars, mode=Mode.NEGATIVE)
    return st.one_of(st.one_of(*valid), st.one_of(*valid), st.one_of(*valid), invalid)


@dataclass
class Outcome:
    documents: int = 0
    by_actor: dict[str, int] = field(default_factory=dict)
    validation_errors: int = 0
    user_errors: int = 0
    domain_errors: int = 0
    failures: list[str] = field(default_factory=list)
    root_fields: set[str] = field(default_factory=set)
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"{self.documents} documents in {self.seconds:.1f} s ({', '.join(f'{k} {v}' for k, v in sorted(self.by_actor.items()))}); "
            f"{self.validation_errors} refused by validation, {self.domain_errors} with coded errors, "
            f"{self.user_errors} userErrors; {len(self.root_fields)} root fields reached; {len(self.failures)} failures"
        )


def _user_error_count(value: Any) -> int:
    if isinstance(value, dict):
        found = len(value.get("userErrors") or []) if isinstance(value.get("userErrors"), list) else 0
        return found + sum(_user_error_count(v) for k, v in value.items() if k != "userErrors")
    if isinstance(value, list):
        return sum(_user_error_count(v) for v in value)
    return 0


def problems_in(status: int, body: Any, error_codes: set[str]) -> list[str]:
    """What is wrong with one response; empty when every failure in it was anticipated."""
    if status >= 500:
        return [f"HTTP {status}"]
    if not isinstance(body, dict):
        return [f"HTTP {status} with a body that is not a JSON object"]
    found = []
    for error in body.get("errors") or []:
        message = str(error.get("message", ""))
        code = (error.get("extensions") or {}).get("code")
        if code == "KERNEL_INTERNAL" or message.startswith("Internal error"):
            found.append(f"internal error at {error.get('path')}")
        elif error.get("path") is not None and code not in error_codes:
            # An execution error without one of our codes: an exception graphql-core turned
            # into an error itself (a null for a non-null field, a bad enum value returned...).
            found.append(f"uncoded execution error at {error.get('path')}: {message}")
    return found


class GraphQLFuzzer:
    """A demo kernel with seeded data behind an in-process app, on its own event loop."""

    def __init__(self, folder: str | None = None, blueprint: Path = DEMO) -> None:
        self._temp = tempfile.TemporaryDirectory(prefix="dougong-fuzz-") if folder is None else None
        self.folder = Path(folder or self._temp.name)  # type: ignore[union-attr]
        self.blueprint = blueprint
        self.runner = asyncio.Runner()
        self.recorder = _Recorder()
        self.outcome = Outcome()

    def __enter__(self) -> GraphQLFuzzer:
        self.runner.__enter__()
        self.runner.run(self._start())
        logging.getLogger("dougong").addHandler(self.recorder)
        return self

    def __exit__(self, *exc: Any) -> None:
        logging.getLogger("dougong").removeHandler(self.recorder)
        try:
            self.runner.run(self._stop())
        finally:
            self.runner.__exit__(*exc)
            if self._temp is not None:
                self._temp.cleanup()

    async def _start(self) -> None:
        from core.app import create_app
        from core.kernel import Kernel

        url = f"sqlite+aiosqlite:///{self.folder / 'fuzz.sqlite'}"
        self.kernel = Kernel.from_file(self.blueprint, clock=MovableClock(), database_url=url)
        await self.kernel.start(seed_demo=True)
        app = create_app([self.kernel], run_worker=False)
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://dougong.test")
        self.schema: graphql.GraphQLSchema = self.kernel.schema._schema
        codes = self.schema.type_map.get("ErrorCode")
        self.error_codes = set(codes.values) if isinstance(codes, graphql.GraphQLEnumType) else set()
        self.node_types = sorted(self.kernel.contributions.nodes)

    async def _stop(self) -> None:
        await self.http.aclose()
        await self.kernel.stop()

    def strategy(self) -> st.SearchStrategy[tuple[str, str]]:
        return st.tuples(st.sampled_from(sorted(ACTORS)), documents(self.schema, self.node_types))

    def root_field_names(self) -> set[str]:
        roots = [self.schema.query_type, self.schema.mutation_type]
        return {f"{root.name}.{name}" for root in roots if root is not None for name in root.fields}

    def fuzz(self, documents: int, seconds: float, seed: int | None = 0, chunk: int = 100) -> Outcome:
        """Send up to ``documents`` documents, stopping at the next chunk after ``seconds``.

        Chunks of ``chunk`` examples each get their own seed (``seed + i``; None for random),
        so a time-bounded run is still reproducible chunk by chunk. No shrinking: the state of
        the database moves on between documents, and the raw failing document is clear enough.
        """
        from hypothesis import HealthCheck, Phase, given, settings
        from hypothesis import seed as with_seed

        started = time.monotonic()
        strategy = self.strategy()
        index = 0
        while self.outcome.documents < documents and time.monotonic() - started < seconds:
            size = min(chunk, documents - self.outcome.documents)

            @settings(max_examples=size, deadline=None, phases=[Phase.generate], database=None,
                      suppress_health_check=list(HealthCheck))
            @given(strategy)
            def run(case: tuple[str, str]) -> None:
                self.send(*case)

            if seed is not None:
                run = with_seed(seed + index)(run)
            run()
            index += 1
        self.outcome.seconds = time.monotonic() - started
        return self.outcome

    def send(self, actor_name: str, document: str) -> list[str]:
        """Run one document as one actor; record and return what went wrong."""
        return self.runner.run(self._send(actor_name, document))

    async def _send(self, actor_name: str, document: str) -> list[str]:
        actor = ACTORS[actor_name]
        headers = {"authorization": f"Bearer {self.kernel.issue_token(actor)}"} if actor is not None else {}
        self.recorder.records.clear()
        try:
            response = await self.http.post("/graphql", json={"query": document}, headers=headers)
            status = response.status_code
            try:
                body = response.json()
            except ValueError:
                body = None
        except Exception as exc:  # the app let an exception escape the ASGI call
            status, body = 599, None
            self.recorder.records.append(logging.LogRecord("fuzz", logging.ERROR, "", 0, f"escaped: {exc!r}", None, None))
        found = problems_in(status, body, self.error_codes)
        found += [f"logged: {r.getMessage()} {_exc_text(r)}" for r in self.recorder.records]
        if self.outcome.documents % 20 == 0:
            # Due timers run as a worker would, now and then (every request would halve the pace).
            seen = len(self.recorder.records)
            await self.kernel.run_due()
            found += [f"logged by a timer: {r.getMessage()} {_exc_text(r)}" for r in self.recorder.records[seen:]]
        self._count(actor_name, body, document)
        if found:
            self.outcome.failures.append(f"as {actor_name}: {'; '.join(dict.fromkeys(found))}\n{document}")
        return found

    def _count(self, actor_name: str, body: Any, document: str) -> None:
        out = self.outcome
        out.documents += 1
        out.root_fields.update(_root_fields(document))
        out.by_actor[actor_name] = out.by_actor.get(actor_name, 0) + 1
        errors = body.get("errors") if isinstance(body, dict) else None
        if errors and all(e.get("path") is None for e in errors):
            out.validation_errors += 1
        elif errors:
            out.domain_errors += 1
        if isinstance(body, dict):
            out.user_errors += _user_error_count(body.get("data"))


def _root_fields(document: str) -> set[str]:
    try:
        parsed = graphql.parse(document)
    except graphql.GraphQLError:
        return set()
    found = set()
    for definition in parsed.definitions:
        if isinstance(definition, graphql.OperationDefinitionNode):
            root = {"query": "Query", "mutation": "Mutation", "subscription": "Subscription"}[definition.operation.value]
            found |= {f"{root}.{s.name.value}" for s in definition.selection_set.selections if isinstance(s, graphql.FieldNode)}
    return found


def _exc_text(record: logging.LogRecord) -> str:
    if record.exc_info and record.exc_info[1] is not None:
        return f"{type(record.exc_info[1]).__name__}: {record.exc_info[1]}"
    return ""
