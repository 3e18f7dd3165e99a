"""Which language to speak to a user (pure)."""

from __future__ import annotations

# Telegram clients in these languages get Russian; any other language gets English.
_RUSSIAN_SPEAKING = frozenset({"ru", "uk", "be", "kk", "ky", "uz", "tg", "hy", "az", "tt", "ba"})


def resolve_locale(stored: str | None, telegram_code: str | None, default: str = "ru") -> str:
    """The user's own choice wins; then their Telegram client's language; then the default."""
    if stored in ("ru", "en"):
        return stored
    if not telegram_code:
        return default
    base = telegram_code.split("-")[0].lower()
    if base == "en":
        return "en"
    if base in _RUSSIAN_SPEAKING:
        return "ru"
    return "en"
