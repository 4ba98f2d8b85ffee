"""Issue 9, bad input: fuzz every query and mutation of the demo schema, as four callers.

The documents are generated from the schema the demo kernel serves (see
``reliability_graphql_fuzzer``), with seeded data behind it, so a component added to the demo
blueprint is fuzzed too. Nothing may come back as a 5xx, an "Internal error", an execution
error without one of our codes, or an error in the kernel's logs: every refusal is a
validation error or a typed error.

``DOUGONG_FUZZ_DOCUMENTS`` / ``DOUGONG_FUZZ_SECONDS`` / ``DOUGONG_FUZZ_SEED`` (``random`` for a
fresh seed) scale the run; ``bench/fuzz_graphql.py`` runs a long one and prints the counts.
"""

from __future__ import annotations

import os

from reliability_graphql_fuzzer import GraphQLFuzzer, problems_in

# Bounded by the number of documents, with a fixed seed: the same run on a quiet or a loaded
# machine (a time cap made a loaded machine reach fewer root fields and fail). The seconds are
# only a guard against a hung run.
DOCUMENTS = int(os.environ.get("DOUGONG_FUZZ_DOCUMENTS", "1500"))
SECONDS = float(os.environ.get("DOUGONG_FUZZ_SECONDS", "900"))
SEED = os.environ.get("DOUGONG_FUZZ_SEED", "0")


def test_fuzzed_documents_never_meet_an_internal_error(tmp_path):
    with GraphQLFuzzer(str(tmp_path)) as fuzzer:
        outcome = fuzzer.fuzz(DOCUMENTS, SECONDS, seed=None if SEED == "random" else int(SEED))
        roots = fuzzer.root_field_names()
    print(outcome.summary())
    assert not outcome.failures, f"{len(outcome.failures)} of {outcome.documents} documents failed:\n\n" + "\n\n".join(outcome.failures[:10])
    # The run went where it should: enough documents, most root fields, and refusals of every kind.
    assert outcome.documents >= min(DOCUMENTS, 300)
    assert len(outcome.root_fields & roots) >= 0.8 * len(roots), sorted(roots - outcome.root_fields)
    assert outcome.validation_errors and outcome.domain_errors and outcome.user_errors
    assert set(outcome.by_actor) == {"anonymous", "member", "admin", "clerk"}


def test_the_judge_flags_what_it_must():
    codes = {"KERNEL_INVALID_ID"}
    assert problems_in(500, {}, codes) == ["HTTP 500"]
    assert problems_in(200, None, codes)
    assert problems_in(200, {"errors": [{"message": "Internal error; it has been logged.", "path": ["x"],
                                         "extensions": {"code": "KERNEL_INTERNAL"}}]}, codes)
    assert problems_in(200, {"errors": [{"message": "Cannot return null for non-nullable field Query.x.", "path": ["x"]}]}, codes)
    assert problems_in(200, {"errors": [{"message": "Cannot query field 'y' on type 'Query'."}]}, codes) == []
    assert problems_in(200, {"errors": [{"message": "no", "path": ["x"], "extensions": {"code": "KERNEL_INVALID_ID"}}]}, codes) == []
