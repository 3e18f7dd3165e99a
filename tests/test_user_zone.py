"""The user's time zone, looked up in one place (bot.domain.zones.user_zone, Screen.zone)."""

from __future__ import annotations

from bot.domain.zones import user_zone
from bot.storage.users import User
from bot.ui.screen import Screen


def test_the_users_own_zone_else_the_deployments() -> None:
    assert user_zone("Asia/Novosibirsk", "Europe/Moscow") == "Asia/Novosibirsk"
    assert user_zone(None, "Europe/Moscow") == "Europe/Moscow"
    assert user_zone("", "Europe/Moscow") == "Europe/Moscow"


def test_the_screens_user() -> None:
    def screen(user: User | None) -> Screen:
        return Screen(bot=None, chat_id=1, user_id=1, tr=None, state=None, user=user)  # type: ignore[arg-type]

    assert screen(User(id=1, timezone="Asia/Omsk")).zone("Europe/Moscow") == "Asia/Omsk"
    assert screen(User(id=1)).zone("Europe/Moscow") == "Europe/Moscow"
    assert screen(None).zone("Europe/Moscow") == "Europe/Moscow"
