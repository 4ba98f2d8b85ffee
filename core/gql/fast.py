"""A level-at-a-time executor for queries: the storefront's fast path.

graphql-core executes a query one field of one object at a time: for a page of 50 products
with 3 SKUs each that is ~1,800 resolver calls, each wrapped by strawberry (Info object,
argument conversion, extension chain) and each async one turned into its own task. Most of
those fields are plain attributes.

This executor walks the same document breadth-first instead: every field is resolved for
*all* objects of a level in one loop (a plain attribute is a ``getattr``; a field with a
resolver still goes through strawberry's own resolver wrapper, so arguments, permissions
and field extensions behave as always), the awaitables of a level are awaited together (so
DataLoaders batch exactly as before: one statement per relation), and values are completed
with the schema's own ``serialize``/``is_type_of``/``resolve_type``.

It only ever produces an answer when the answer has no errors. Anything it does not handle
(@defer/@stream, introspection fields, abstract types resolved asynchronously) and *any*
error — a resolver raising, a null in a non-null position — makes it give up, and the query
runs again through graphql-core, which then produces the usual data, errors, paths and
masking. Queries read and never write, and loaders cache per request, so running again
costs time but changes nothing observable. Mutations and subscriptions never come here.

The path is four modules: this one (the strawberry extension that tries it and falls back),
``fast_plan`` (the executor, compiled once per document: a level of fields at a time,
completion of values), ``fast_fields`` (how one field's value is got) and ``fast_drive``
(running a level's coroutines without a task each, and ``GiveUp``).
"""

from __future__ import annotations

import logging
import os
from typing import Any

from graphql import ExecutionResult, GraphQLError
from graphql.execution.executor import Executor
from strawberry.extensions import SchemaExtension

from core.db import database_unavailable
from core.gql.fast_drive import GiveUp, drive
from core.gql.fast_fields import FieldPlan
from core.gql.fast_plan import PlanCache, run_plan

__all__ = ["FastQueries", "FieldPlan", "GiveUp", "drive"]

log = logging.getLogger("dougong.graphql.fast")


class FastQueries(SchemaExtension):
    """Answers error-free queries with :class:`LevelExecutor`; anything else falls through to
    graphql-core (strawberry skips its executor when an extension has set the result)."""

    enabled = True
    # Plans of documents seen before are kept (core.gql.fast_plan), per schema; off, every
    # request compiles its document again, as the level executor did before plans were kept
    # (the bench's comparison, DOUGONG_COMPILED_PLANS=0).
    compiled = os.environ.get("DOUGONG_COMPILED_PLANS", "1") != "0"
    answered = 0  # queries this path answered (tests read it to know which path ran)
    planned = 0  # of those, the ones a kept plan answered

    async def on_execute(self):  # noqa: ANN201
        ec = self.execution_context
        if self.enabled and ec.graphql_document is not None and not ec.result:
            try:
                result = await self._run(ec)
            except GiveUp as reason:
                log.debug("fast path gave up: %s", reason)
            except Exception as exc:
                if database_unavailable(exc):
                    # Running again would wait for the database a second time: answer now,
                    # as graphql-core would (process_errors gives it its code).
                    ec.result = ExecutionResult(data=None, errors=[GraphQLError(str(exc), original_error=exc)])
                else:  # graphql-core will raise it again, where errors are reported
                    log.debug("fast path failed; executing normally", exc_info=True)
            else:
                ec.result = result
                FastQueries.answered += 1
        yield

    async def _run(self, ec: Any) -> Any:
        schema = ec.schema._schema
        built = Executor.build(schema, ec.graphql_document, ec.root_value, ec.context, ec.variables, ec.operation_name)
        if isinstance(built, list):
            raise GiveUp("variables or operation")
        # Kept on the schema itself: it lives and goes with the schema (tests build many).
        plans = schema.__dict__.get("_dougong_plans")
        if plans is None:
            plans = schema._dougong_plans = PlanCache(schema, built.middleware_manager)
        text = ec.query if isinstance(ec.query, str) else None
        data, kept = await run_plan(plans, text, built, ec.schema.config.info_class, keep=self.compiled)
        if kept:
            FastQueries.planned += 1
        return ExecutionResult(data=data, errors=None)
