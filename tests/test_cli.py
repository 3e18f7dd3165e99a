"""`python -m bot`: a missing or malformed token ends with one clear line and exit code 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import Settings, SettingsError


def run_bot(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "DATABASE_URL"}}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,  # no .env there
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_missing_token_is_one_clear_line(tmp_path: Path) -> None:
    result = run_bot(tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "BOT_TOKEN is not set" in lines[0]
    assert "@BotFather" in lines[0]
    assert "Traceback" not in result.stderr


def test_malformed_token_is_one_clear_line(tmp_path: Path) -> None:
    result = run_bot(tmp_path, BOT_TOKEN="not-a-token")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        line for line in result.stderr.strip().splitlines() if "BOT_TOKEN is malformed" in line
    ]
    assert "not-a-token" not in result.stderr


def test_migrate_command_creates_the_database(tmp_path: Path) -> None:
    db = tmp_path / "data" / "x.db"
    result = run_bot(tmp_path, "migrate", DATABASE_URL=f"sqlite+aiosqlite:///{db}")
    assert result.returncode == 0, result.stderr
    assert db.exists()


def test_bad_setting_is_named(tmp_path: Path) -> None:
    result = run_bot(tmp_path, DEFAULT_TIMEZONE="Mars/Olympus")
    assert result.returncode == 2
    assert "DEFAULT_TIMEZONE is invalid" in result.stderr


def test_admin_ids_parse() -> None:
    settings = Settings(_env_file=None, admin_ids="1, 2,3")
    assert settings.admin_ids == frozenset({1, 2, 3})


@pytest.mark.parametrize("token", ["", "123:short", "abc:" + "A" * 35, "1234 :" + "A" * 35])
def test_token_validation(token: str) -> None:
    settings = Settings(_env_file=None, bot_token=token)
    with pytest.raises(SettingsError):
        settings.token()
