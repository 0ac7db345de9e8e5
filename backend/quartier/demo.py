"""Demo data: loaded once by `make run` / `quartier demo`."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession


async def load_demo(session: AsyncSession) -> str:
    return "demo data: nothing to load yet"
