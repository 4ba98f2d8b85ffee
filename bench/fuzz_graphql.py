"""A long GraphQL fuzzing run over a blueprint's whole schema (default: the demo, seeded).

The same fuzzer as tests/reliability/test_reliability_fuzz_graphql.py, without its time
budget: prints how many documents were sent and each failure (the document and what went
wrong), and exits 1 if there was any.

    python bench/fuzz_graphql.py [--documents 20000] [--seconds 1800] [--seed N|random]
                                 [--blueprint blueprints/demo.yaml] [--show 20]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "reliability"))

from reliability_graphql_fuzzer import GraphQLFuzzer  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=20000)
    parser.add_argument("--seconds", type=float, default=1800.0)
    parser.add_argument("--seed", default="random", help="an integer, or 'random'")
    parser.add_argument("--blueprint", type=Path, default=ROOT / "blueprints" / "demo.yaml")
    parser.add_argument("--show", type=int, default=20, help="failures to print in full")
    args = parser.parse_args()
    seed = None if args.seed == "random" else int(args.seed)
    with GraphQLFuzzer(blueprint=args.blueprint) as fuzzer:
        outcome = fuzzer.fuzz(args.documents, args.seconds, seed=seed)
        missed = sorted(fuzzer.root_field_names() - outcome.root_fields)
    for failure in outcome.failures[: args.show]:
        print("-" * 72)
        print(failure)
    print("-" * 72)
    print(f"documents fuzzed: {outcome.documents}")
    print(f"failures: {len(outcome.failures)}")
    print(outcome.summary())
    if missed:
        print(f"root fields never sent: {', '.join(missed)}")
    return 1 if outcome.failures else 0


if __name__ == "__main__":
    sys.exit(main())
