"""Demo staff accounts for local use: never in production, never with a known password.

The passwords are random, printed once by `make run` / `quartier demo`, and kept in
`<data dir>/demo-credentials.txt` (mode 0600) so a developer can look them up later.
"""

from __future__ import annotations

import os
import secrets

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.accounts import services
from quartier.accounts.models import StaffAccount
from quartier.core.security import Role
from quartier.settings import Settings

DEMO_ACCOUNTS = (
    ("admin@quartier.example", "Demo-Administration", Role.ADMIN),
    ("planung@quartier.example", "Demo-Sozialplanung", Role.PLANNER),
    ("moderation@quartier.example", "Demo-Moderation", Role.MODERATOR),
)


async def load(session: AsyncSession, settings: Settings) -> str:
    if settings.is_production:
        return "staff accounts: none (no demo accounts in production)"
    if await session.scalar(select(func.count()).select_from(StaffAccount)):
        return "staff accounts: present already"
    lines = []
    for email, name, role in DEMO_ACCOUNTS:
        password = secrets.token_urlsafe(12)
        await services.create_account(
            session, email=email, display_name=name, role=role, password=password
        )
        lines.append(f"{role.value:<10} {email}  {password}")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path = settings.data_dir / "demo-credentials.txt"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    return "staff accounts (sign in at /login; also in " + str(path) + "):\n  " + "\n  ".join(lines)
