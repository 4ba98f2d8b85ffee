"""The token secret of a development blueprint that sets no ``auth.secret``.

Generated at random once per database and kept in it (``kernel_meta``), so it survives
restarts, is the same for every worker on that database, and differs between databases: a
token minted for one sandbox never verifies on another, and nobody can compute it from the
brand's slug. Production blueprints must set ``auth.secret`` (the kernel refuses to boot
without), because a secret that lives beside the data leaks with any copy of the database.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from core.models import MetaRow

if TYPE_CHECKING:  # pragma: no cover
    from core.kernel import Kernel

KEY = "auth_secret"


async def database_secret(kernel: Kernel) -> str:
    # Under the database-wide lock: workers booting together must agree on one secret.
    async with kernel.db.exclusive("auth-secret"):
        async with kernel.transaction() as tx:
            row = await tx.session.get(MetaRow, KEY)
            if row is None:
                row = MetaRow(key=KEY, value=secrets.token_urlsafe(48))
                tx.session.add(row)
            value = row.value
    return value
