"""All ORM models, imported in one place so that Alembic and the mappers see every table."""

from __future__ import annotations

from quartier.accounts import models as accounts  # noqa: F401
from quartier.db import Base, metadata

__all__ = ["Base", "metadata"]
