"""«Частые вопросы», the pure parts: the first-pass anonymiser and the Russian similarity of
questions (stems, stop words, a Dice overlap with a threshold)."""

from __future__ import annotations

from bot.domain.faq import (
    REDACTED,
    THRESHOLD,
    anonymise,
    carries,
    index,
    search,
    similar,
    similarity,
    terms,
)

R = REDACTED


def test_terms_drop_stop_words_and_spell_out_abbreviations() -> None:
    assert terms("Как зарегистрировать НКО?") == {"зарегистрирова", "некоммерческ", "организац"}
    assert terms("Подскажите, пожалуйста, как нам быть?") == set()
    assert terms("Налоги в 2026 году") == {"налог", "год"}  # a number says nothing
    assert terms("Отчёт") == terms("отчет")


def test_a_question_matches_one_that_says_it_in_other_words() -> None:
    published = "Регистрация некоммерческой организации"
    assert similarity(terms("Как зарегистрировать НКО?"), terms(published)) == 1.0
    assert (
        similarity(
            terms("Как нам зарегистрировать некоммерческую организацию в районе?"),
            terms(published),
        )
        >= THRESHOLD
    )
    assert (
        similarity(
            terms("Можно ли арендовать помещение для занятий?"), terms("Аренда помещения для НКО")
        )
        >= THRESHOLD
    )
    assert (
        similarity(terms("Платим ли мы налог с пожертвований?"), terms("Налог с пожертвований"))
        >= THRESHOLD
    )


def test_unrelated_or_barely_related_questions_do_not_match() -> None:
    published = "Регистрация некоммерческой организации"
    assert similarity(terms("Где найти добровольцев на субботник?"), terms(published)) == 0.0
    # One shared stem of seven is not «the same question».
    assert (
        similarity(
            terms("Нужна ли регистрация участников фестиваля у спонсора?"), terms(published)
        )
        < THRESHOLD
    )
    # Short stems match only themselves: «прав» (права) is not «управление».
    assert similarity(terms("права"), terms("управление")) == 0.0
    assert similarity(frozenset(), terms(published)) == 0.0


def test_similar_ranks_and_limits_entries() -> None:
    entries = [
        index(1, "Как найти добровольцев?", "Через центр добровольчества."),
        index(2, "Регистрация некоммерческой организации", "В Минюсте, по форме Р11001."),
        index(3, "Регистрация НКО онлайн", "Через портал Госуслуг."),
    ]
    found = similar("Как зарегистрировать НКО?", entries)
    assert [entry_id for entry_id, _ in found] == [2, 3]
    assert found[0][1] == 1.0
    assert similar("Как зарегистрировать НКО?", entries, limit=1) == [(2, 1.0)]
    assert similar("Когда субботник?", entries) == []
    # A search looks in the answers too.
    assert search("госуслуги", entries) == [3]
    assert search("минюст", entries) == [2]
    assert search("добровольцы", entries) == [1]
    assert search("", entries) == []


def test_anonymise_strips_the_name_its_forms_usernames_phones_and_mail() -> None:
    names = ("Анна", "Смирнова", "anna_sm")
    text = (
        "Меня зовут Анна Смирнова (@anna_sm), пишите anna.sm@mail.ru или звоните "
        "+7 (913) 555-01-77. Анне нужен ответ, спросите Анну или у Смирновой."
    )
    assert anonymise(text, names) == (
        f"Меня зовут {R} {R} ({R}), пишите {R} или звоните {R}. "
        f"{R} нужен ответ, спросите {R} или у {R}."
    )
    # Whole words only: «Аннулировать» and «Анкета» stay; so do sums and years.
    kept = "Аннулировать договор, анкета, 100 000 рублей в 2026 году, ИНН в заявке."
    assert anonymise(kept, names) == kept
    # Any @username and phone goes, named or not; a short name (Ян) is left to the coordinator.
    assert anonymise("Ян и @petrov_ivan, 8 800 100-20-30", ("Ян",)) == f"Ян и {R}, {R}"
    assert anonymise("Пишет Ольга: спасибо Ольге!", ("Ольга", None)) == f"Пишет {R}: спасибо {R}!"


def test_carries_tells_whether_the_name_is_still_there() -> None:
    names = ("Зебулон", "Квиркворт", "zeb_q")
    assert carries("Спасибо, Зебулону, за вопрос", names)
    assert not carries("Как зарегистрировать НКО? Пишите на info@example.org", names)
    assert not carries("Как зарегистрировать НКО?", (None, None, None))
