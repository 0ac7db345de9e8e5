"""Fixtures of the toolkit tests: the surveys tests' areas, process and survey helpers (the
toolkit is exercised through the modules that use it)."""

from tests.surveys.conftest import (  # noqa: F401 - fixtures
    areas,
    make_process,
    planner,
    process_id,
    surveys,
)
