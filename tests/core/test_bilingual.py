"""English and German texts of the exports' metadata (core.bilingual, issue #13)."""

from __future__ import annotations

import pytest

from quartier.core.bilingual import Bilingual, Method
from quartier.ideas import aggregates
from quartier.measures import feedback
from quartier.surveys import aggregation

METHOD = Method(
    "noise at most ±{noise} (alpha {alpha}); below {k} published as 0, {k} shown",
    "Abweichung höchstens ±{noise} (Alpha {alpha}); unter {k} als 0 veröffentlicht, {k} gezeigt",
)


def test_a_formatted_text_is_read_back_into_german() -> None:
    english = METHOD.format(noise=15, alpha=0.5, k=5)
    assert english == "noise at most ±15 (alpha 0.5); below 5 published as 0, 5 shown"
    assert METHOD.of(english) == Bilingual(
        english, "Abweichung höchstens ±15 (Alpha 0,5); unter 5 als 0 veröffentlicht, 5 gezeigt"
    )


def test_a_text_the_method_did_not_give_stays_as_it_is() -> None:
    for other in (
        "something else",
        "noise at most ±15 (alpha 0.5); below 5 published as 0, 6 shown",
    ):
        assert METHOD.of(other) == Bilingual(other, other)


def test_both_templates_name_the_same_values() -> None:
    with pytest.raises(ValueError, match="different values"):
        Method("at most {noise}", "höchstens {noise}, Alpha {alpha}")


@pytest.mark.parametrize(
    ("method", "values"),
    [
        (aggregation.DISCLOSURE_METHOD, {"alpha": 0.5, "noise": 15, "k": 5}),
        (aggregation.INTERVAL_METHOD, {}),
        *[(method, {}) for method in aggregation.WEIGHTING_METHODS.values()],
        (feedback.DISCLOSURE_METHOD, {"alpha": 0.25, "noise": 7, "k": 3, "minimum": 10}),
        (feedback.INTERVAL_METHOD, {}),
        (aggregates.DISCLOSURE_METHOD, {"alpha": 0.5, "noise": 15, "k": 5, "minimum": 5}),
    ],
)
def test_every_method_of_the_exports_has_its_german_text(
    method: Method, values: dict[str, object]
) -> None:
    texts = method.of(method.format(**values))
    assert texts.de == method.german(**values)
    assert texts.de != texts.en
