"""All ORM models, imported in one place so that Alembic and the mappers see every table."""

from __future__ import annotations

from quartier.accounts import models as accounts  # noqa: F401
from quartier.areas import models as areas  # noqa: F401
from quartier.core import idempotency  # noqa: F401
from quartier.db import Base, metadata
from quartier.ideas import models as ideas  # noqa: F401
from quartier.indicators import models as indicators  # noqa: F401
from quartier.inventory import models as inventory  # noqa: F401
from quartier.jobs import models as jobs  # noqa: F401
from quartier.measures import delivery_models as measure_delivery  # noqa: F401
from quartier.measures import models as measures  # noqa: F401
from quartier.processes import models as processes  # noqa: F401
from quartier.reports import models as reports  # noqa: F401
from quartier.surveys import models as surveys  # noqa: F401
from quartier.webhooks import models as webhooks  # noqa: F401

__all__ = ["Base", "metadata"]
