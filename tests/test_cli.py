"""`python -m bot`: without a token the playground starts; a malformed token or setting ends with
one clear line and exit code 2."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest

from bot.config import Settings, SettingsError


def run_bot(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    drop = {"BOT_TOKEN", "DATABASE_URL", "OPERATOR_NAME", "OPERATOR_CONTACT"}
    clean = {k: v for k, v in os.environ.items() if k not in drop}
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


@pytest.mark.parametrize(
    ("stop", "host"), [(signal.SIGINT, "127.0.0.1"), (signal.SIGTERM, "0.0.0.0")]
)
def test_without_a_token_the_playground_starts_and_stops_cleanly(
    tmp_path: Path, stop: signal.Signals, host: str
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "DATABASE_URL"}}
    env.update(
        PLAYGROUND_HOST=host,
        PLAYGROUND_PORT="0",
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'data' / 'bot.db'}",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,  # no .env there
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    stdout = process.stdout

    def read() -> None:
        for line in stdout:
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    try:
        first = lines.get(timeout=120)  # the address, once the bot polls the emulator
        address = re.search(r"http://127\.0\.0\.1:\d+", first)
        assert address is not None, first
        if host == "0.0.0.0":
            # not a 0.0.0.0 address that opens nothing elsewhere, but where it can be opened
            assert "listening on all interfaces" in first, first
            assert "0.0.0.0" not in first, first
        assert "BOT_TOKEN" in lines.get(timeout=10)  # how to connect a real bot
        with urllib.request.urlopen(address.group(0), timeout=30) as response:
            assert response.status == 200
            assert "playground.js" in response.read().decode()
        process.send_signal(stop)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    stderr = process.stderr.read() if process.stderr else ""
    assert "Traceback" not in stderr
    assert (tmp_path / "data" / "playground" / "chats.json").exists()  # beside the database


def test_malformed_token_is_one_clear_line(tmp_path: Path) -> None:
    result = run_bot(tmp_path, BOT_TOKEN="not-a-token")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        line for line in result.stderr.strip().splitlines() if "BOT_TOKEN is malformed" in line
    ]
    assert "not-a-token" not in result.stderr


def test_a_real_bot_without_its_operator_is_one_clear_line(tmp_path: Path) -> None:
    """With a token the bot is real: it must name its personal-data operator (152-ФЗ)."""
    token = "123456:" + "A" * 35
    result = run_bot(tmp_path, BOT_TOKEN=token, OPERATOR_CONTACT="privacy@example.org")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "opora: OPERATOR_NAME must be set with BOT_TOKEN: the consent screen and the privacy "
        "policy name the personal-data operator and how to reach them (see .env.example)."
    ]
    result = run_bot(tmp_path, BOT_TOKEN=token, OPERATOR_NAME="   ")
    assert "OPERATOR_NAME and OPERATOR_CONTACT must be set with BOT_TOKEN" in result.stderr
    assert token not in result.stderr


def test_migrate_command_creates_the_database(tmp_path: Path) -> None:
    db = tmp_path / "data" / "x.db"
    result = run_bot(tmp_path, "migrate", DATABASE_URL=f"sqlite+aiosqlite:///{db}")
    assert result.returncode == 0, result.stderr
    assert db.exists()


def test_worker_command_plans_what_is_waiting_and_exits(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'w.db'}"
    assert run_bot(tmp_path, "migrate", DATABASE_URL=url).returncode == 0
    result = run_bot(tmp_path, "worker", "--once", DATABASE_URL=url)
    assert result.returncode == 0, result.stderr
    bad = run_bot(tmp_path, "worker", "--once", DATABASE_URL=url, PLANNER_PAGE="0")
    assert bad.returncode == 2
    assert "PLANNER_PAGE is invalid" in bad.stderr


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
