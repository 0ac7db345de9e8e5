"""Staff forms: an HTML form read into a msgspec Struct, with one message per field in error.

The Struct is the same kind the API uses (often built from the same annotated types, so a form
and the API share every bound). Each field is checked on its own so that the page can show all
errors at once — the error summary at the top and the message at each field — instead of the
first one msgspec meets. Domain refusals raised by services (``InvalidInput`` with
``FieldError``s) become the same kind of message with :func:`errors_of`.

Form conventions: a missing or blank field takes the Struct's default (or None where the type
allows it); list fields are read from repeated keys (checkboxes); ``bool`` fields are
checkboxes (present means true). Text is stripped of surrounding whitespace except in the fields
named in `keep_whitespace` (passwords).
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import msgspec

from quartier.core.errors import InvalidInput
from quartier.core.i18n import gettext as _

T = TypeVar("T", bound=msgspec.Struct)
_TRUE = {"1", "true", "on", "yes"}


@dataclass
class FormResult(Generic[T]):
    """`data` is the valid Struct or None; `errors` maps field ids to messages; `values` holds
    what was sent, to fill the form in again."""

    data: T | None
    errors: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.data is not None and not self.errors


def _strip_annotated(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def _members(tp: Any) -> tuple[Any, ...]:
    tp = _strip_annotated(tp)
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return tuple(_strip_annotated(member) for member in typing.get_args(tp))
    return (tp,)


def _is_list(tp: Any) -> bool:
    return any(typing.get_origin(member) in (list, set, frozenset) for member in _members(tp))


def _allows_none(tp: Any) -> bool:
    return any(member is type(None) for member in _members(tp))


def _is_bool(tp: Any) -> bool:
    return bool in _members(tp)


_PATTERNS: tuple[tuple[re.Pattern[str], Any], ...] = (
    (re.compile(r"Expected `str` of length >= 1\b"), lambda m: _("Enter a value")),
    (
        re.compile(r"Expected `str` of length >= (\d+)"),
        lambda m: _("Enter at least %(n)s characters", n=m.group(1)),
    ),
    (
        re.compile(r"Expected `str` of length <= (\d+)"),
        lambda m: _("Enter at most %(n)s characters", n=m.group(1)),
    ),
    (re.compile(r"Expected `array` of length >= \d+"), lambda m: _("Choose at least one")),
    (
        re.compile(r"Expected `array` of length <= (\d+)"),
        lambda m: _("Choose at most %(n)s", n=m.group(1)),
    ),
    (re.compile(r"Invalid enum value|Invalid UUID"), lambda m: _("Choose one of the options")),
    (re.compile(r"date"), lambda m: _("Enter a date like 2027-03-31")),
    (re.compile(r"Expected `int`"), lambda m: _("Enter a whole number")),
    (re.compile(r"Object missing required field"), lambda m: _("Enter a value")),
)


def message_for(error: msgspec.ValidationError | str) -> str:
    """A translated, plain-language message for a msgspec validation error."""
    text = str(error)
    for pattern, message in _PATTERNS:
        found = pattern.search(text)
        if found:
            return str(message(found))
    return _("Enter a valid value")


def parse_form(
    form: Any,
    struct: type[T],
    *,
    keep_whitespace: Collection[str] = (),
    rename: Mapping[str, str] | None = None,
) -> FormResult[T]:
    """Read `form` into `struct`, checking each field on its own. `rename` maps a Struct field
    to the form field id that shows its error (when they differ)."""
    rename = rename or {}
    raw: dict[str, Any] = {}
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for info in msgspec.structs.fields(struct):
        name = info.name
        has_default = (
            info.default is not msgspec.NODEFAULT or info.default_factory is not msgspec.NODEFAULT
        )
        if _is_list(info.type):
            chosen = [str(v).strip() for v in form.getall(name, []) if str(v).strip()]
            values[name] = chosen
            value: Any = chosen
        elif _is_bool(info.type):
            value = str(form.get(name, "")).strip().lower() in _TRUE
            values[name] = value
        else:
            sent = form.get(name)
            if sent is None and has_default:
                continue
            text = "" if sent is None else str(sent)
            if name not in keep_whitespace:
                text = text.strip()
            values[name] = text
            if text == "":
                if _allows_none(info.type):
                    value = None
                elif has_default:
                    continue
                else:
                    value = text
            else:
                value = text
        try:
            msgspec.convert(value, info.type, strict=False)
        except msgspec.ValidationError as error:
            errors[rename.get(name, name)] = message_for(error)
            continue
        raw[name] = value
    if errors:
        return FormResult(data=None, errors=errors, values=values)
    try:
        data = msgspec.convert(raw, struct, strict=False)
    except msgspec.ValidationError as error:
        found = re.search(r"at `\$\.(\w+)", str(error))
        key = found.group(1) if found else next(iter(values), "form")
        return FormResult(
            data=None, errors={rename.get(key, key): message_for(error)}, values=values
        )
    return FormResult(data=data, errors={}, values=values)


async def read_form(
    request: Any,
    struct: type[T],
    *,
    keep_whitespace: Collection[str] = (),
    rename: Mapping[str, str] | None = None,
) -> FormResult[T]:
    """:func:`parse_form` on the request's form body (urlencoded or multipart)."""
    form = await request.form()
    return parse_form(form, struct, keep_whitespace=keep_whitespace, rename=rename)


def errors_of(
    problem: InvalidInput,
    messages: Mapping[str, str] | None = None,
    rename: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The field errors of a service's refusal, keyed by form field id (`area_codes[2]` is
    shown at `area_codes`); `messages` gives a translated message per field, otherwise the
    service's own message is shown."""
    messages = messages or {}
    rename = rename or {}
    errors: dict[str, str] = {}
    for item in problem.errors or []:
        key = re.split(r"[.\[]", item.field, maxsplit=1)[0]
        errors.setdefault(rename.get(key, key), messages.get(key) or item.message)
    return errors or {"form": problem.detail}
