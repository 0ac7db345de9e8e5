"""The resident-participation toolkit: codes, follow tokens, pseudonyms, free text, the guard."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from quartier.core.errors import Problem
from quartier.participation import codes, guard, pseudonyms, text
from quartier.processes import participation
from quartier.processes import services as processes
from quartier.processes.phases import PhaseKey
from tests.surveys.conftest import MakeProcess


def test_receipt_codes_are_crockford_and_forgiving_when_typed() -> None:
    drawn = {codes.new_receipt_code() for _ in range(200)}
    assert len(drawn) == 200
    assert all(codes.is_canonical(code, codes.RECEIPT_LENGTH) for code in drawn)
    assert codes.normalise_code(" 7kq2-mx9p ") == "7KQ2MX9P"
    assert codes.normalise_code("IOLo") == "1010"
    assert codes.format_code("7KQ2MX9P") == "7KQ2-MX9P"


def test_follow_tokens_are_long_secrets_stored_only_as_keyed_hashes_per_module() -> None:
    token = codes.new_follow_token()
    assert len(token) >= 40 and codes.plausible_follow_token(token)
    stored = codes.follow_token_hash("k" * 32, "ideas", token)
    assert token.encode() not in stored and len(stored) == 32
    assert stored == codes.follow_token_hash("k" * 32, "ideas", token)
    assert stored != codes.follow_token_hash("k" * 32, "measure_feedback", token)
    assert stored != codes.follow_token_hash("j" * 32, "ideas", token)
    assert not codes.plausible_follow_token("short")
    assert not codes.plausible_follow_token("a" * 30 + "/" + "b" * 10)


def test_pseudonyms_differ_per_salt_and_tokens_are_checked() -> None:
    token = "t" * 20
    first = pseudonyms.pseudonym("secret", b"salt-one", token)
    assert first == pseudonyms.pseudonym("secret", b"salt-one", token)
    assert first != pseudonyms.pseudonym("secret", b"salt-two", token)
    pseudonyms.check_respondent_token(token)
    # Exactly as the contract declares the header: 16 to 256 characters without NUL (the token
    # is only ever hashed; HTTP itself keeps other control characters out of headers).
    pseudonyms.check_respondent_token("sixteen chars\x07!!")
    for bad in ("short", "x" * 300, "sixteen chars\x00!!"):
        with pytest.raises(Problem) as refused:
            pseudonyms.check_respondent_token(bad)
        assert refused.value.errors[0].field == "Respondent-Token"


@pytest.mark.parametrize(
    ("value", "multiline", "refused"),
    [
        ("  Ein Spielplatz  ", True, False),
        ("eins\r\nzwei\tdrei", True, False),
        ("eins\nzwei", False, True),
        ("Null\x00byte", True, True),
        ("Glocke\x07", True, True),
        ("C1\x85control", True, True),
        ("x" * 20 + "   ", True, False),
        ("x" * 21, True, True),
    ],
)
def test_free_text_rules(value: str, multiline: bool, refused: bool) -> None:
    assert (text.text_error(value, 20, multiline=multiline) is not None) is refused


def test_free_text_helpers_for_spam_defence() -> None:
    assert text.normalise(" a\r\nb ") == "a\nb"
    assert text.count_links("see https://a.example and www.b.example, http://c") == 3
    assert text.fingerprint_text("Mehr  Bänke, am Platz!") == text.fingerprint_text(
        "mehr bänke am platz"
    )


@pytest.mark.parametrize("phase", list(PhaseKey))
async def test_the_sql_guard_agrees_with_the_registry(
    engine: AsyncEngine, make_process: MakeProcess, phase: PhaseKey
) -> None:
    process_id = await make_process(phase=phase)
    for module in ("surveys", "ideas", "measure_feedback"):
        statement = select(guard.open_now(module))
        for override in (None, True, False):
            if override is not None:
                async with async_sessionmaker(engine)() as db, db.begin():
                    await processes.set_participation_override(
                        db, process_id, module, phase, override
                    )
            async with async_sessionmaker(engine)() as db:
                expected = await participation.is_open(db, process_id, module)
                got = await db.scalar(statement, {"process_id": process_id})
                assert bool(got) is expected, (module, override)
                assert await db.scalar(statement, {"process_id": uuid.uuid4()}) is None
