"""``dougong check``: does an installed component keep the component contract?

Each rule is a small function returning :class:`Failure` rows (rule, where, message), so a
failure reads like a linter's: ``components/x/README.md: [readme-error-codes] X_FULL is not
named``. The rules are split by what they need:

- :mod:`core.conformance.manifest`: the manifest alone (settings schema, versions, names);
- :mod:`core.conformance.surface`: a booted kernel's contributions and schema (prefixed names,
  ``userErrors``, idempotency keys, declared access, README coverage);
- :mod:`core.conformance.imports`: the component's source files (no other component's internals);
- :mod:`core.conformance.boot`: booting the component alone with its dependencies on a fresh
  SQLite database, then asking Alembic whether its migrations match its models.

:func:`check` runs them all for one component; the CLI and the pytest option print the rows.
"""

from __future__ import annotations

from core.conformance.failure import Failure
from core.conformance.run import check, check_many, quick_check

__all__ = ["Failure", "check", "check_many", "quick_check"]
