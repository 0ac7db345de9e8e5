"""All ORM models, imported in one place so that Alembic and the mappers see every table."""

from __future__ import annotations

from quartier.db import Base, metadata

__all__ = ["Base", "metadata"]
