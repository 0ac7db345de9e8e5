"""All ORM models, imported in one place so that Alembic and the mappers see every table."""

from __future__ import annotations

from quartier.accounts import models as accounts  # noqa: F401
from quartier.areas import models as areas  # noqa: F401
from quartier.core import idempotency  # noqa: F401
from quartier.db import Base, metadata
from quartier.processes import models as processes  # noqa: F401
from quartier.surveys import models as surveys  # noqa: F401

__all__ = ["Base", "metadata"]
