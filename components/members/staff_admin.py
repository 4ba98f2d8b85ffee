"""Staff administration: invite, set roles and stores, deactivate, reactivate; one-time sign-in codes.

The rules behind the ``inviteStaff`` … mutations and ``dougong staff add``. Every change is
announced on the authority channel (:func:`core.authority.changed`), so open websockets of
that person re-read their rights at once; HTTP requests re-read them anyway.

Roles are the kernel's built-ins and those components declare (``registrar.staff_role``); a
role that needs stores (``store_clerk``) must be given at least one, and store ids must name
stores of the component that claims the store list (store_pickup). The last active admin can
be neither deactivated nor demoted: a brand locked out of its own administration could only
be repaired with SQL.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING, Iterable

from sqlalchemy import select

from components.members.models import Staff
from components.members.service import MAX_STAFF_NAME, PHONE, normalise_phone
from core import authority
from core.auth import Actor
from core.clock import as_utc
from core.errors import DomainError

if TYPE_CHECKING:  # pragma: no cover
    from core.kernel import Kernel
    from core.transaction import Transaction

SIGN_IN_CODE_TTL = timedelta(hours=24)
SIGN_IN_CODE_PROVIDER = "staff_code"


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


class StaffAdmin:
    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel

    # -- checks ---------------------------------------------------------------------------------
    def roles(self) -> dict:
        return self.kernel.contributions.staff_roles

    async def _checked_roles_and_stores(
        self, tx: Transaction, roles: Iterable[str], store_ids: Iterable[int], field: str
    ) -> tuple[list[str], list[int]]:
        known = self.roles()
        roles = sorted(set(roles))
        if not roles or any(r not in known for r in roles):
            raise DomainError("MEMBERS_INVALID_ROLE", f"Roles are {', '.join(sorted(known))}.", field="input.roles")
        stores = sorted(set(store_ids))
        if any(known[r].needs_stores for r in roles) and not stores:
            raise DomainError("MEMBERS_INVALID_STORES", "A store clerk needs at least one store.", field=field)
        if stores:
            claimed = self.kernel.contributions.stores.get("stores")
            existing = await claimed.value(tx.session, stores) if claimed is not None else set()
            missing = [s for s in stores if s not in existing]
            if missing:
                raise DomainError("MEMBERS_UNKNOWN_STORE", "Stores must be pickup stores of this brand.", field=field, missing=missing)
        return roles, stores

    async def _staff(self, tx: Transaction, staff_id: int) -> Staff:
        staff = await tx.session.get(Staff, staff_id, with_for_update=True)
        if staff is None:
            raise DomainError("KERNEL_NOT_FOUND", "No staff member with that id.", field="input.staffId")
        return staff

    async def _keep_an_admin(self, tx: Transaction, staff: Staff) -> None:
        """Refuse a change that leaves no active admin (called before the change is applied)."""
        # Roles are a JSON list (no portable "contains" across SQLite and PostgreSQL); staff
        # tables are small, so the active rows are read and checked here.
        # Locked: two admins demoting each other at once must not both see the other remain.
        rows = (await tx.session.execute(select(Staff.id, Staff.roles).where(Staff.active.is_(True), Staff.id != staff.id).with_for_update())).all()
        if not any("admin" in (roles or []) for _, roles in rows):
            raise DomainError("MEMBERS_LAST_ADMIN", "This is the last active admin: make someone else admin first.", field="input.staffId")

    # -- changes --------------------------------------------------------------------------------
    async def invite(
        self,
        tx: Transaction,
        *,
        name: str,
        roles: Iterable[str],
        store_ids: Iterable[int] = (),
        phone: str | None = None,
        stores_field: str = "input.pickupStoreIds",
    ) -> tuple[int, str]:
        """A new active staff member and their one-time sign-in code: ``(staff id, code)``.
        ``stores_field`` is the input field errors about the stores name."""
        name = (name or "").strip()
        if not (0 < len(name) <= MAX_STAFF_NAME):
            raise DomainError("KERNEL_INVALID_INPUT", f"A staff name has 1 to {MAX_STAFF_NAME} characters.", field="input.name")
        roles, stores = await self._checked_roles_and_stores(tx, roles, store_ids, stores_field)
        if phone is not None:
            phone = normalise_phone(phone)
            if not PHONE.match(phone):
                raise DomainError("MEMBERS_INVALID_PHONE", "A phone number is 6 to 15 digits.", field="input.phone")
            if await tx.session.scalar(select(Staff.id).where(Staff.phone == phone)) is not None:
                raise DomainError("MEMBERS_PHONE_TAKEN", "A staff member with that phone number already exists.", field="input.phone")
        staff = Staff(name=name, phone=phone, roles=roles, store_ids=stores, active=True)
        tx.session.add(staff)
        await tx.session.flush()
        return staff.id, self._new_code(tx, staff)

    async def set_roles(
        self, tx: Transaction, staff_id: int, *, roles: Iterable[str], store_ids: Iterable[int] = (), stores_field: str = "input.pickupStoreIds"
    ) -> None:
        staff = await self._staff(tx, staff_id)
        roles, stores = await self._checked_roles_and_stores(tx, roles, store_ids, stores_field)
        if staff.active and "admin" in (staff.roles or []) and "admin" not in roles:
            await self._keep_an_admin(tx, staff)
        staff.roles, staff.store_ids = roles, stores
        authority.changed(tx, "staff", staff.id)

    async def set_active(self, tx: Transaction, staff_id: int, active: bool) -> None:
        staff = await self._staff(tx, staff_id)
        if staff.active == active:
            return  # idempotent: deactivating twice is no error
        if not active and "admin" in (staff.roles or []):
            await self._keep_an_admin(tx, staff)
        staff.active = active
        if not active:
            staff.sign_in_code_hash = staff.sign_in_code_expires_at = None
        authority.changed(tx, "staff", staff.id)

    async def renew_sign_in_code(self, tx: Transaction, staff_id: int) -> str:
        staff = await self._staff(tx, staff_id)
        if not staff.active:
            raise DomainError("MEMBERS_STAFF_INACTIVE", "Reactivate the staff member first.", field="input.staffId")
        return self._new_code(tx, staff)

    def _new_code(self, tx: Transaction, staff: Staff) -> str:
        code = secrets.token_urlsafe(24)
        staff.sign_in_code_hash = code_hash(code)
        staff.sign_in_code_expires_at = tx.now() + SIGN_IN_CODE_TTL
        return code


class StaffCodeSignIn:
    """The ``staff_code`` identity provider: a one-time code from an invitation or the CLI."""

    async def authenticate(self, tx: Transaction, credential: str) -> Actor | None:
        if not isinstance(credential, str) or not (10 <= len(credential) <= 100):
            return None
        staff = await tx.session.scalar(select(Staff).where(Staff.sign_in_code_hash == code_hash(credential)).with_for_update())
        if staff is None or not staff.active or staff.sign_in_code_expires_at is None:
            return None
        if as_utc(staff.sign_in_code_expires_at) <= tx.now():
            return None
        # One time: a code seen in a chat log or a shell history is worthless once used.
        staff.sign_in_code_hash = staff.sign_in_code_expires_at = None
        return Actor("staff", staff.id)
