"""Helpers for tests of published figures (stats.cellkey).

`without_noise`: a fixture that sets the perturbation of every cell to 0, so that tests of
the *structure* of a result (levels, shares, intervals, weighting, formats) can state exact
counts; what remains of disclosure control is that counts below k read 0 and groups below
min_respondents are not shown. Tests of the protection itself run with the real table.

`published(count, keys)`: what the real table publishes for a cell, to state expected values
with noise from the record keys the test stored.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from quartier.stats.cellkey import Cell, PTable, Release


@pytest.fixture
def without_noise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(PTable, "noise", lambda self, key: 0)


def published(keys: Sequence[int], *, k: int = 5, min_respondents: int = 10) -> int:
    """The published count of the cell made of rows with these record keys."""
    return Release(k, min_respondents).count(Cell(len(keys), sum(keys)))
