"""Fixtures of the open-data tests, borrowed from the surveys tests: the small area hierarchy,
planning processes, a planner, and the aggregated-needs survey of the export tests (four
planning areas with responses)."""

from __future__ import annotations

from tests.surveys.conftest import areas, make_process, planner  # noqa: F401 - fixtures
from tests.surveys.test_exports import survey  # noqa: F401 - fixture
