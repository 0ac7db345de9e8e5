"""Fixtures of the indicators tests: Berlin (read-only per module, from tests.areas) and the
two-level toy city for tests that write through the API."""

from __future__ import annotations

from tests.areas.conftest import (  # noqa: F401  (fixtures)
    berlin_client,
    berlin_engine,
    berlin_session,
    berlin_template,
    berlin_url,
    small_city_session,
)
from tests.surveys.conftest import (  # noqa: F401  (fixtures)
    areas,
    make_process,
    planner,
    process_id,
    surveys,
)
