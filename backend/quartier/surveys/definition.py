"""Survey definitions: whole-document validation, conditional display, rendering in one
language, the rules for changing a published survey, and an in-process cache of parsed
definitions.

Validation runs in two steps. msgspec decodes and bounds the document (`schemas`); then
:func:`check_definition` applies the rules that need the whole document — unique keys, exactly
one social-area question (required, always shown: it is the area the response counts for), at
most one age-band question, at most one question whose options map to the population's sexes
(single choice, one option per sex), consistent bounds, and conditions that refer only to *earlier*
questions and to options those questions have. :func:`validate_definition` adds the checks that
need the database (need categories, area levels, population age bands). Every error names its
exact path, e.g. ``definition.pages[1].questions[0].show_if.all[0].question``.

Conditional display: a page or question with `show_if` is shown only when its condition holds
for the answers to the questions shown before it. Because conditions refer only to earlier
questions, one pass in document order decides what a respondent saw (:func:`visible_questions`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.areas.models import AgeBand, AreaLevel
from quartier.core import i18n
from quartier.core.errors import FieldError, InvalidInput
from quartier.surveys import schemas as s
from quartier.surveys.models import NeedCategory, Survey

Answers = Mapping[str, Any]
LANGUAGE_KEYS = frozenset({"de", "en", "de-x-simple", "tr", "ar"})
CHOICE_TYPES = (s.SingleChoiceQuestion, s.MultipleChoiceQuestion, s.RankingQuestion)
OPTION_TYPES = (
    s.SingleChoiceQuestion,
    s.MultipleChoiceQuestion,
    s.RankingQuestion,
    s.AgeBandQuestion,
)


def _error(path: str, message: str) -> FieldError:
    return FieldError(field=path, source="body", message=message)


# -- walking a definition ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Located:
    """A question with its place: page index, question index, path and document position."""

    page: int
    index: int
    position: int
    question: s.AnyQuestion

    @property
    def path(self) -> str:
        return f"pages[{self.page}].questions[{self.index}]"


def located_questions(definition: s.Definition) -> list[Located]:
    """Every question in document order, with its place."""
    found: list[Located] = []
    for p, page in enumerate(definition.pages):
        for q, question in enumerate(page.questions):
            found.append(Located(page=p, index=q, position=len(found), question=question))
    return found


def questions(definition: s.Definition) -> list[s.AnyQuestion]:
    """Every question in document order."""
    return [question for page in definition.pages for question in page.questions]


def option_keys(question: s.AnyQuestion) -> list[str]:
    """The answerable option keys of a choice, ranking or age-band question (with `other`
    when offered), or of a rating question (its values as strings); empty for the rest."""
    if isinstance(question, s.SingleChoiceQuestion | s.MultipleChoiceQuestion):
        keys = [option.key for option in question.options]
        return [*keys, s.OTHER] if question.other is not None else keys
    if isinstance(question, s.RankingQuestion | s.AgeBandQuestion):
        return [option.key for option in question.options]
    if isinstance(question, s.RatingQuestion):
        return [str(v) for v in range(question.scale_min, question.scale_max + 1)]
    return []


def _condition_nodes(
    condition: s.Condition, path: str, depth: int = 1
) -> Iterator[tuple[s.Condition, str, int]]:
    yield condition, path, depth
    if isinstance(condition, s.Not):
        yield from _condition_nodes(condition.condition, f"{path}.not", depth + 1)
    elif isinstance(condition, s.AnyOf | s.AllOf):
        name = "any" if isinstance(condition, s.AnyOf) else "all"
        for i, inner in enumerate(condition.conditions):
            yield from _condition_nodes(inner, f"{path}.{name}[{i}]", depth + 1)


def condition_questions(condition: s.Condition) -> set[str]:
    """The question keys a condition refers to."""
    return {
        node.question
        for node, _, _ in _condition_nodes(condition, "")
        if isinstance(node, s.Equals | s.Includes)
    }


# -- checking a definition -----------------------------------------------------------------------


def _label_lengths(definition: s.Definition) -> list[FieldError]:
    errors: list[FieldError] = []

    def check(text: s.Text | None, path: str) -> None:
        if text is None:
            return
        for language, value in text.as_dict().items():
            if len(value) > s.LABEL_MAX:
                errors.append(_error(f"{path}.{language}", f"at most {s.LABEL_MAX} characters"))

    check(definition.title, "definition.title")
    for p, page in enumerate(definition.pages):
        check(page.title, f"definition.pages[{p}].title")
        for q, question in enumerate(page.questions):
            base = f"definition.pages[{p}].questions[{q}]"
            if isinstance(question, OPTION_TYPES):
                listed: Sequence[s.Option[s.Text] | s.AgeBandOption[s.Text]] = question.options
                for o, option in enumerate(listed):
                    check(option.label, f"{base}.options[{o}].label")
            if isinstance(question, s.SingleChoiceQuestion | s.MultipleChoiceQuestion):
                check(question.other.label if question.other else None, f"{base}.other.label")
            if isinstance(question, s.RatingQuestion):
                check(question.min_label, f"{base}.min_label")
                check(question.max_label, f"{base}.max_label")
            if isinstance(question, s.NumberQuestion):
                check(question.unit, f"{base}.unit")
    return errors


def _check_question(question: s.AnyQuestion, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    if isinstance(question, OPTION_TYPES):
        seen: set[str] = set()
        listed: Sequence[s.Option[s.Text] | s.AgeBandOption[s.Text]] = question.options
        for o, option in enumerate(listed):
            if option.key in seen:
                errors.append(_error(f"{path}.options[{o}].key", "duplicate option key"))
            if option.key == s.OTHER:
                errors.append(
                    _error(
                        f"{path}.options[{o}].key",
                        "`other` is reserved for “other, please specify” (use the `other` field)",
                    )
                )
            seen.add(option.key)
    if isinstance(question, s.MultipleChoiceQuestion | s.RankingQuestion):
        for o, option in enumerate(question.options):
            if option.population_sex is not msgspec.UNSET:
                errors.append(
                    _error(
                        f"{path}.options[{o}].population_sex",
                        "only the options of a single-choice question map to the population's "
                        "sexes",
                    )
                )
    if isinstance(question, s.SingleChoiceQuestion):
        mapped: set[str] = set()
        for o, option in enumerate(question.options):
            if option.population_sex is msgspec.UNSET:
                continue
            if option.population_sex in mapped:
                errors.append(
                    _error(
                        f"{path}.options[{o}].population_sex",
                        f"another option already maps to {option.population_sex!r} "
                        "(at most one option per sex)",
                    )
                )
            mapped.add(option.population_sex)
    if isinstance(question, s.MultipleChoiceQuestion):
        available = len(option_keys(question))
        if question.max_selections is not None:
            if question.max_selections < question.min_selections:
                errors.append(_error(f"{path}.max_selections", "less than min_selections"))
            if question.max_selections > available:
                errors.append(_error(f"{path}.max_selections", "more than the options offered"))
        if question.min_selections > available:
            errors.append(_error(f"{path}.min_selections", "more than the options offered"))
    if isinstance(question, s.RankingQuestion):
        most = question.max_ranked if question.max_ranked is not None else len(question.options)
        if most > len(question.options):
            errors.append(_error(f"{path}.max_ranked", "more than the options offered"))
        if question.min_ranked > most:
            errors.append(_error(f"{path}.min_ranked", "more than max_ranked"))
    if isinstance(question, s.RatingQuestion):
        scale = range(question.scale_min, question.scale_max + 1)
        for v, value in enumerate(question.need_values):
            if value not in scale:
                errors.append(_error(f"{path}.need_values[{v}]", "not a value of the scale"))
        if len(set(question.need_values)) != len(question.need_values):
            errors.append(_error(f"{path}.need_values", "duplicate values"))
        if bool(question.need_values) != bool(question.need_categories):
            errors.append(
                _error(
                    f"{path}.need_values",
                    "give need_values and need_categories together (which values express which "
                    "needs)",
                )
            )
    if isinstance(question, s.NumberQuestion):
        if question.minimum >= question.maximum:
            errors.append(_error(f"{path}.maximum", "must be greater than minimum"))
        if question.integer:
            for name in ("minimum", "maximum"):
                if not float(getattr(question, name)).is_integer():
                    errors.append(_error(f"{path}.{name}", "must be whole for integer answers"))
    if isinstance(question, s.SocialAreaQuestion):
        if not question.required:
            errors.append(_error(f"{path}.required", "the social-area question must be required"))
        if question.show_if is not None:
            errors.append(
                _error(f"{path}.show_if", "the social-area question must always be shown")
            )
    return errors


def _check_condition(
    condition: s.Condition,
    path: str,
    *,
    earlier: Mapping[str, s.AnyQuestion],
    everywhere: Mapping[str, s.AnyQuestion],
) -> list[FieldError]:
    errors: list[FieldError] = []
    for node, where, depth in _condition_nodes(condition, path):
        if depth > s.MAX_CONDITION_DEPTH:
            errors.append(_error(where, f"conditions nest at most {s.MAX_CONDITION_DEPTH} deep"))
            break
        if not isinstance(node, s.Equals | s.Includes):
            continue
        target = earlier.get(node.question)
        if target is None:
            message = (
                "refers to a question that is not asked before this one"
                if node.question in everywhere
                else "refers to an unknown question"
            )
            errors.append(_error(f"{where}.question", f"{message}: {node.question!r}"))
            continue
        errors.extend(_check_operand(node, where, target))
    return errors


def _check_operand(
    node: s.Equals | s.Includes, where: str, target: s.AnyQuestion
) -> list[FieldError]:
    kind = target.__struct_config__.tag
    if isinstance(node, s.Includes):
        if not isinstance(target, s.MultipleChoiceQuestion | s.RankingQuestion):
            return [
                _error(
                    f"{where}.op",
                    f"`includes` needs a multiple-choice or ranking question, "
                    f"{node.question!r} is {kind}",
                )
            ]
        if node.option not in option_keys(target):
            return [_error(f"{where}.option", f"{node.question!r} has no option {node.option!r}")]
        return []
    value = node.value
    if isinstance(target, s.SingleChoiceQuestion | s.AgeBandQuestion):
        if not isinstance(value, str) or value not in option_keys(target):
            return [_error(f"{where}.value", f"{node.question!r} has no option {value!r}")]
    elif isinstance(target, s.RatingQuestion):
        if not isinstance(value, int) or not target.scale_min <= value <= target.scale_max:
            return [_error(f"{where}.value", f"not a value of the scale of {node.question!r}")]
    elif isinstance(target, s.NumberQuestion):
        if isinstance(value, str):
            return [_error(f"{where}.value", f"{node.question!r} is a number question")]
    elif isinstance(target, s.SocialAreaQuestion):
        if not isinstance(value, str):
            return [_error(f"{where}.value", "give the social area's code")]
    else:
        return [
            _error(
                f"{where}.op",
                f"`equals` cannot test a {kind} question ({node.question!r})"
                "; use `includes` for multiple choice and ranking",
            )
        ]
    return []


def check_definition(definition: s.Definition) -> list[FieldError]:
    """The document-wide rules (no database needed); paths start with `definition.`."""
    errors = _label_lengths(definition)
    everywhere = {question.key: question for question in questions(definition)}
    page_keys: set[str] = set()
    seen_questions: dict[str, s.AnyQuestion] = {}
    area_questions: list[str] = []
    age_questions: list[str] = []
    sex_questions: list[str] = []  # the first mapped option of each sex-mapped question
    for p, page in enumerate(definition.pages):
        page_path = f"definition.pages[{p}]"
        if page.key in page_keys:
            errors.append(_error(f"{page_path}.key", "duplicate page key"))
        page_keys.add(page.key)
        if page.show_if is not None:
            # A page's condition may refer to questions of earlier pages only.
            errors.extend(
                _check_condition(
                    page.show_if,
                    f"{page_path}.show_if",
                    earlier=dict(seen_questions),
                    everywhere=everywhere,
                )
            )
        for q, question in enumerate(page.questions):
            path = f"{page_path}.questions[{q}]"
            if question.key in seen_questions:
                errors.append(_error(f"{path}.key", "duplicate question key"))
            errors.extend(_check_question(question, path))
            if question.show_if is not None:
                errors.extend(
                    _check_condition(
                        question.show_if,
                        f"{path}.show_if",
                        earlier=seen_questions,
                        everywhere=everywhere,
                    )
                )
            if isinstance(question, s.SocialAreaQuestion):
                area_questions.append(path)
                if page.show_if is not None:
                    errors.append(
                        _error(
                            f"{page_path}.show_if",
                            "the page of the social-area question must always be shown",
                        )
                    )
            if isinstance(question, s.AgeBandQuestion):
                age_questions.append(path)
            if isinstance(question, s.SingleChoiceQuestion):
                sex_questions += [
                    f"{path}.options[{o}].population_sex"
                    for o, option in enumerate(question.options)
                    if option.population_sex is not msgspec.UNSET
                ][:1]
            seen_questions.setdefault(question.key, question)
    if not area_questions:
        errors.append(
            _error(
                "definition.pages",
                "a survey needs one `social_area` question (the area each response counts for)",
            )
        )
    for path in area_questions[1:]:
        errors.append(_error(f"{path}.type", "a survey has exactly one social_area question"))
    for path in age_questions[1:]:
        errors.append(_error(f"{path}.type", "a survey has at most one age_band question"))
    for path in sex_questions[1:]:
        errors.append(
            _error(path, "the options of at most one question per survey map to population sexes")
        )
    return errors


async def validate_definition(session: AsyncSession, definition: s.Definition) -> None:
    """Raise InvalidInput (400) naming every error: the document-wide rules, and need
    categories (known and active), area levels and population age bands (known)."""
    errors = check_definition(definition)
    needs = set(
        (await session.scalars(select(NeedCategory.key).where(NeedCategory.is_active))).all()
    )
    levels = set((await session.scalars(select(AreaLevel.key))).all())
    bands = set((await session.scalars(select(AgeBand.key))).all())
    for located in located_questions(definition):
        question, path = located.question, f"definition.{located.path}"
        tagged: list[tuple[str, list[str]]] = []
        if isinstance(question, CHOICE_TYPES):
            tagged += [
                (f"{path}.options[{o}].need_categories", option.need_categories)
                for o, option in enumerate(question.options)
            ]
        if (
            isinstance(question, s.SingleChoiceQuestion | s.MultipleChoiceQuestion)
            and question.other is not None
        ):
            tagged.append((f"{path}.other.need_categories", question.other.need_categories))
        if isinstance(question, s.RatingQuestion):
            tagged.append((f"{path}.need_categories", question.need_categories))
        for where, keys in tagged:
            for i, key in enumerate(keys):
                if key not in needs:
                    errors.append(
                        _error(f"{where}[{i}]", f"unknown or inactive need category {key!r}")
                    )
        if isinstance(question, s.SocialAreaQuestion) and question.level not in levels:
            known = ", ".join(sorted(levels)) or "none yet"
            errors.append(
                _error(f"{path}.level", f"unknown area level {question.level!r} (levels: {known})")
            )
        if isinstance(question, s.AgeBandQuestion):
            for o, option in enumerate(question.options):
                for b, band in enumerate(option.population_bands):
                    if band not in bands:
                        errors.append(
                            _error(
                                f"{path}.options[{o}].population_bands[{b}]",
                                f"unknown population age band {band!r}",
                            )
                        )
    if errors:
        raise InvalidInput(
            f"The survey definition has {len(errors)} error(s); see `errors`.", errors=errors
        )


# -- conditional display -------------------------------------------------------------------------


def condition_holds(condition: s.Condition, answers: Answers) -> bool:
    """Evaluate a condition against answers (absent answers make `equals`/`includes` false)."""
    if isinstance(condition, s.Equals):
        answer = answers.get(condition.question)
        if answer is None or isinstance(answer, bool | list | dict):
            return False
        if isinstance(condition.value, str) or isinstance(answer, str):
            return bool(answer == condition.value)
        return float(answer) == float(condition.value)
    if isinstance(condition, s.Includes):
        answer = answers.get(condition.question)
        return isinstance(answer, list) and condition.option in answer
    if isinstance(condition, s.Not):
        return not condition_holds(condition.condition, answers)
    if isinstance(condition, s.AnyOf):
        return any(condition_holds(inner, answers) for inner in condition.conditions)
    return all(condition_holds(inner, answers) for inner in condition.conditions)


def _walk_visible(
    definition: s.Definition, answers: Answers
) -> tuple[list[s.SurveyPage[s.Text]], list[s.AnyQuestion]]:
    shown: dict[str, Any] = {}  # answers of the questions shown so far
    pages: list[s.SurveyPage[s.Text]] = []
    visible: list[s.AnyQuestion] = []
    for page in definition.pages:
        if page.show_if is not None and not condition_holds(page.show_if, shown):
            continue
        pages.append(page)
        for question in page.questions:
            if question.show_if is not None and not condition_holds(question.show_if, shown):
                continue
            visible.append(question)
            if question.key in answers:
                shown[question.key] = answers[question.key]
    return pages, visible


def visible_pages(definition: s.Definition, answers: Answers) -> list[s.SurveyPage[s.Text]]:
    """The pages shown for these answers (a page's own condition holds). A page may still have
    questions hidden by their own conditions; see :func:`visible_questions`."""
    return _walk_visible(definition, answers)[0]


def visible_questions(definition: s.Definition, answers: Answers) -> list[s.AnyQuestion]:
    """The questions a respondent with these answers was shown, in order: on a shown page,
    with a condition that holds for the answers to the questions shown before it. Answers to
    hidden questions never influence what is shown."""
    return _walk_visible(definition, answers)[1]


# -- one language --------------------------------------------------------------------------------


def _pick_texts(node: Any, language: str) -> Any:
    if isinstance(node, dict):
        if "de" in node and node.keys() <= LANGUAGE_KEYS:
            return i18n.pick(node, language)
        return {key: _pick_texts(value, language) for key, value in node.items()}
    if isinstance(node, list):
        return [_pick_texts(value, language) for value in node]
    return node


def localize(definition: s.Definition, language: str | None = None) -> s.LocalizedDefinition:
    """The definition with every text in one language (easy-read German falls back to
    German, English to German where a text has no English version)."""
    tree = _pick_texts(msgspec.to_builtins(definition), language or i18n.current_language())
    return msgspec.convert(tree, s.LocalizedDefinition)


# -- age strata and needs ------------------------------------------------------------------------


def age_band_question(definition: s.Definition) -> s.AgeBandQuestion[s.Text] | None:
    return next((q for q in questions(definition) if isinstance(q, s.AgeBandQuestion)), None)


def social_area_question(definition: s.Definition) -> s.SocialAreaQuestion[s.Text]:
    found = next((q for q in questions(definition) if isinstance(q, s.SocialAreaQuestion)), None)
    assert found is not None, "validated definitions have one social-area question"
    return found


def age_strata(definition: s.Definition) -> dict[str, list[str]]:
    """Age strata (`survey_responses.age_stratum`, the option keys of the age-band question)
    mapped to the population age bands they cover; options mapped to no band (e.g. "prefer
    not to say") are left out — their responses have no stratum."""
    question = age_band_question(definition)
    if question is None:
        return {}
    return {o.key: list(o.population_bands) for o in question.options if o.population_bands}


def sex_options(definition: s.Definition) -> tuple[str, dict[str, s.PopulationSex]] | None:
    """The question whose options map to the population's sexes, as (question key, {option
    key: "female" | "male"}); None when no option maps (validated definitions have at most
    one such question)."""
    for question in questions(definition):
        if isinstance(question, s.SingleChoiceQuestion):
            mapped = {
                option.key: option.population_sex
                for option in question.options
                if option.population_sex is not msgspec.UNSET
            }
            if mapped:
                return question.key, mapped
    return None


# -- changing a published survey -----------------------------------------------------------------


def _bound_changes(old: s.AnyQuestion, new: s.AnyQuestion, key: str) -> list[str]:
    """Ways in which `new` accepts less than `old` (tightened bounds)."""
    changes: list[str] = []
    if new.required and not old.required:
        changes.append(f"question {key!r} became required")
    if isinstance(old, s.MultipleChoiceQuestion) and isinstance(new, s.MultipleChoiceQuestion):
        if new.min_selections > old.min_selections:
            changes.append(f"min_selections of {key!r} raised")
        if new.max_selections is not None and (
            old.max_selections is None or new.max_selections < old.max_selections
        ):
            changes.append(f"max_selections of {key!r} lowered")
    if isinstance(old, s.RankingQuestion) and isinstance(new, s.RankingQuestion):
        if new.min_ranked > old.min_ranked:
            changes.append(f"min_ranked of {key!r} raised")
        old_max = old.max_ranked if old.max_ranked is not None else len(old.options)
        new_max = new.max_ranked if new.max_ranked is not None else len(new.options)
        if new_max < old_max:
            changes.append(f"max_ranked of {key!r} lowered")
    if isinstance(old, s.RatingQuestion) and isinstance(new, s.RatingQuestion):
        if (new.scale_min, new.scale_max) != (old.scale_min, old.scale_max):
            changes.append(f"scale of {key!r} changed")
        if (sorted(new.need_values), sorted(new.need_categories)) != (
            sorted(old.need_values),
            sorted(old.need_categories),
        ):
            changes.append(f"need values or categories of {key!r} changed")
    if isinstance(old, s.NumberQuestion) and isinstance(new, s.NumberQuestion):
        if new.minimum > old.minimum:
            changes.append(f"minimum of {key!r} raised from {old.minimum:g} to {new.minimum:g}")
        if new.maximum < old.maximum:
            changes.append(f"maximum of {key!r} lowered from {old.maximum:g} to {new.maximum:g}")
        if new.integer and not old.integer:
            changes.append(f"{key!r} now accepts whole numbers only")
    if (
        isinstance(old, s.ShortTextQuestion | s.LongTextQuestion)
        and isinstance(new, s.ShortTextQuestion | s.LongTextQuestion)
        and new.max_length < old.max_length
    ):
        changes.append(f"max_length of {key!r} lowered")
    if (
        isinstance(old, s.SocialAreaQuestion)
        and isinstance(new, s.SocialAreaQuestion)
        and new.level != old.level
    ):
        changes.append(f"area level of {key!r} changed from {old.level!r} to {new.level!r}")
    return changes


def _option_changes(old: s.AnyQuestion, new: s.AnyQuestion, key: str) -> list[str]:
    changes: list[str] = []
    removed = [k for k in option_keys(old) if k not in option_keys(new)]
    if isinstance(old, s.RatingQuestion):
        removed = []  # the scale is compared in _bound_changes
    for removed_key in removed:
        if removed_key == s.OTHER:
            changes.append(f"“other, please specify” of {key!r} was removed")
        else:
            changes.append(f"option {removed_key!r} of {key!r} was removed or renamed")
    if isinstance(old, s.SingleChoiceQuestion | s.MultipleChoiceQuestion) and isinstance(
        new, s.SingleChoiceQuestion | s.MultipleChoiceQuestion
    ):
        if old.other and new.other and new.other.max_length < old.other.max_length:
            changes.append(f"max_length of “other” of {key!r} lowered")
        if old.other and new.other and old.other.need_categories != new.other.need_categories:
            changes.append(f"need categories of “other” of {key!r} changed")
    if isinstance(old, CHOICE_TYPES) and isinstance(new, CHOICE_TYPES):
        before = {o.key: sorted(o.need_categories) for o in old.options}
        for option in new.options:
            if option.key in before and sorted(option.need_categories) != before[option.key]:
                changes.append(f"need categories of option {option.key!r} of {key!r} changed")
    if isinstance(old, s.AgeBandQuestion) and isinstance(new, s.AgeBandQuestion):
        bands = {o.key: sorted(o.population_bands) for o in old.options}
        for age_option in new.options:
            if (
                age_option.key in bands
                and sorted(age_option.population_bands) != bands[age_option.key]
            ):
                changes.append(f"population bands of age option {age_option.key!r} changed")
    return changes


def breaking_changes(old: s.Definition, new: s.Definition) -> list[FieldError]:
    """What in `new` would make answers stored under `old` invalid, or change what they
    mean: removed or renamed questions and options, changed types, tightened bounds, new
    required questions, changed conditions, need tags or age-band mappings. Texts, order,
    new options and new optional questions are fine."""
    errors: list[FieldError] = []
    before = {located.question.key: located for located in located_questions(old)}
    after = {located.question.key: located for located in located_questions(new)}
    for key, located in before.items():
        if key not in after:
            errors.append(
                _error(f"definition.{located.path}", f"question {key!r} was removed or renamed")
            )
    for key, located in after.items():
        path = f"definition.{located.path}"
        new_question = located.question
        if key not in before:
            if new_question.required:
                errors.append(
                    _error(
                        path,
                        f"new question {key!r} is required (answers already stored do not have it)",
                    )
                )
            continue
        old_question = before[key].question
        old_type = old_question.__struct_config__.tag
        new_type = new_question.__struct_config__.tag
        if old_type != new_type:
            errors.append(
                _error(f"{path}.type", f"type of {key!r} changed from {old_type} to {new_type}")
            )
            continue
        if old_question.show_if != new_question.show_if:
            errors.append(_error(f"{path}.show_if", f"condition of {key!r} changed"))
        for change in _bound_changes(old_question, new_question, key):
            errors.append(_error(path, change))
        for change in _option_changes(old_question, new_question, key):
            errors.append(_error(path, change))
    old_pages = {page.key: page.show_if for page in old.pages}
    for p, page in enumerate(new.pages):
        if page.key in old_pages and old_pages[page.key] != page.show_if:
            errors.append(
                _error(f"definition.pages[{p}].show_if", f"condition of page {page.key!r} changed")
            )
        if page.key not in old_pages and page.show_if is not None:
            moved = [q.key for q in page.questions if q.key in before]
            if moved:
                errors.append(
                    _error(
                        f"definition.pages[{p}].show_if",
                        f"questions already answered ({', '.join(moved)}) moved under a condition",
                    )
                )
    return errors


# -- parsed definitions, cached ------------------------------------------------------------------


@dataclass(slots=True)
class Compiled:
    """A parsed definition with what submissions need, built once per (survey, version)."""

    definition: s.Definition
    by_key: dict[str, s.AnyQuestion]
    social_area: s.SocialAreaQuestion[s.Text]
    age_band: s.AgeBandQuestion[s.Text] | None
    localized: dict[str, s.LocalizedDefinition] = field(default_factory=dict)

    @classmethod
    def of(cls, definition: s.Definition) -> Compiled:
        return cls(
            definition=definition,
            by_key={q.key: q for q in questions(definition)},
            social_area=social_area_question(definition),
            age_band=age_band_question(definition),
        )

    def in_language(self, language: str) -> s.LocalizedDefinition:
        found = self.localized.get(language)
        if found is None:
            found = self.localized[language] = localize(self.definition, language)
        return found


_CACHE_SIZE = 512
_cache: OrderedDict[tuple[UUID, int], Compiled] = OrderedDict()
_cache_lock = threading.Lock()
_latest: dict[UUID, int] = {}  # survey id -> newest cached version


def parse_definition(raw: Mapping[str, Any]) -> s.Definition:
    """A stored definition document as Structs (stored documents were validated on save)."""
    return msgspec.convert(raw, s.Definition)


def compiled(survey: Survey) -> Compiled:
    """The parsed definition of a survey, from an in-process cache keyed by (id, version):
    a definition never changes without a new version."""
    return cached(survey.id, survey.definition_version) or remember(
        survey.id, survey.definition_version, survey.definition
    )


def cached(survey_id: UUID, version: int) -> Compiled | None:
    """The cached parse of this version of a survey's definition, if there is one."""
    key = (survey_id, version)
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
        return hit


def cached_version(survey_id: UUID) -> int | None:
    """The newest version of the survey's definition in the cache (None if none is): a caller
    that loads a survey can skip reading and decoding the definition document when the stored
    version is still this one."""
    with _cache_lock:
        return _latest.get(survey_id)


def remember(survey_id: UUID, version: int, raw: Mapping[str, Any]) -> Compiled:
    """Parse a stored definition document and cache it under (id, version)."""
    result = Compiled.of(parse_definition(raw))
    with _cache_lock:
        _cache[(survey_id, version)] = result
        if version >= _latest.get(survey_id, version):
            _latest[survey_id] = version
        while len(_cache) > _CACHE_SIZE:
            (evicted_id, evicted_version), _ = _cache.popitem(last=False)
            if _latest.get(evicted_id) == evicted_version:
                del _latest[evicted_id]
    return result


def definition_of(survey: Survey) -> s.Definition:
    """The survey's definition as Structs (cached per id and version)."""
    return compiled(survey).definition


def encode_definition(definition: s.Definition) -> dict[str, Any]:
    """A definition as the JSON document stored in `surveys.definition`."""
    result: dict[str, Any] = msgspec.to_builtins(definition)
    return result
