"""HTTP surface: tokens, methods, request encodings and the error shape."""

from __future__ import annotations

import json

import aiohttp
import pytest

from bot.emulator import EmulatedUser, Emulator

from .conftest import Api

OTHER_TOKEN = "987654:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef-_12"


async def test_base_url_and_get_me(emu: Emulator, api: Api) -> None:
    assert emu.base_url.startswith("http://127.0.0.1:")
    me = await api.ok("getMe")
    assert me["id"] == 123456789
    assert me["is_bot"] is True
    assert me["username"] == "opora_test_bot"
    assert me["first_name"] == "Опора"


@pytest.mark.parametrize(
    "token",
    ["123:short", "abc:" + "x" * 40, "123456" + "x" * 40, "123:" + "x" * 29 + "!"],
)
async def test_malformed_token_is_401(
    emu: Emulator, http: aiohttp.ClientSession, token: str
) -> None:
    async with http.post(f"{emu.base_url}/bot{token}/getMe") as response:
        assert response.status == 401
        assert await response.json() == {
            "ok": False,
            "error_code": 401,
            "description": "Unauthorized",
        }
    assert emu.calls[-1].error_code == 401
    assert emu.calls[-1].bot_id == 0


async def test_unknown_method_is_404(emu: Emulator, api: Api) -> None:
    status, body = await api.call("sendTelepathy", chat_id=1)
    assert status == 404
    assert body == {"ok": False, "error_code": 404, "description": "Not Found"}


async def test_unknown_path_is_404(emu: Emulator, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{emu.base_url}/nothing/here") as response:
        assert response.status == 404
        assert (await response.json())["description"] == "Not Found"


async def test_method_names_are_case_insensitive(emu: Emulator, api: Api) -> None:
    for name in ("getme", "GETME", "GetMe"):
        assert (await api.ok(name))["username"] == "opora_test_bot"
    assert [call.method for call in emu.calls] == ["getMe"] * 3


async def test_several_bots_with_their_own_usernames(emu: Emulator, api: Api) -> None:
    emu.register_bot(OTHER_TOKEN, username="second_bot", first_name="Второй")
    status, body = await api.call("getMe", token=OTHER_TOKEN)
    assert status == 200
    assert body["result"]["id"] == 987654
    assert body["result"]["username"] == "second_bot"
    assert (await api.ok("getMe"))["username"] == "opora_test_bot"


async def test_username_set_in_constructor() -> None:
    async with (
        Emulator(bot_username="another_bot") as emu,
        aiohttp.ClientSession() as http,
        http.get(emu.api_url("getMe")) as response,
    ):
        assert (await response.json())["result"]["username"] == "another_bot"


@pytest.mark.parametrize("encoding", ["json", "form", "query"])
async def test_all_request_encodings(
    emu: Emulator, api: Api, anna: EmulatedUser, encoding: str
) -> None:
    markup = {"inline_keyboard": [[{"text": "OK", "callback_data": "ok"}]]}
    status, body = await api.call(
        "sendMessage",
        encoding=encoding,
        chat_id=anna.id,
        text="<b>hi</b>",
        parse_mode="HTML",
        reply_markup=markup,
        disable_notification=True,
    )
    assert status == 200, body
    result = body["result"]
    assert result["text"] == "hi"
    assert result["entities"] == [{"type": "bold", "offset": 0, "length": 2}]
    assert result["reply_markup"] == markup
    call = emu.calls[-1]
    assert call.params["chat_id"] == anna.id
    assert call.params["reply_markup"] == markup
    assert call.params["disable_notification"] is True


async def test_multipart_form_fields(
    emu: Emulator, http: aiohttp.ClientSession, anna: EmulatedUser
) -> None:
    form = aiohttp.FormData(quote_fields=False)
    form.add_field("chat_id", str(anna.id))
    form.add_field("text", "через multipart")
    form.add_field("entities", json.dumps([{"type": "italic", "offset": 0, "length": 5}]))
    form.add_field("unused_file", b"\x00\x01", filename="x.bin")  # forces multipart
    async with http.post(emu.api_url("sendMessage"), data=form) as response:
        body = await response.json()
    assert body["ok"] is True, body
    assert body["result"]["entities"] == [{"type": "italic", "offset": 0, "length": 5}]


async def test_bad_json_body(emu: Emulator, http: aiohttp.ClientSession) -> None:
    async with http.post(
        emu.api_url("getMe"), data=b"{nope", headers={"Content-Type": "application/json"}
    ) as response:
        assert response.status == 400
        assert (await response.json())["description"].startswith("Bad Request: ")


async def test_calls_are_recorded(emu: Emulator, api: Api, anna: EmulatedUser) -> None:
    await api.ok("sendMessage", chat_id=anna.id, text="one")
    await api.error("sendMessage", chat_id=anna.id, text="")
    ok_call, bad_call = emu.calls[-2:]
    assert ok_call.method == "sendMessage"
    assert ok_call.ok is True
    assert ok_call.bot_id == 123456789
    assert ok_call.result["text"] == "one"
    assert bad_call.ok is False
    assert bad_call.error_code == 400
    assert bad_call.description == "Bad Request: message text is empty"
    assert bad_call.time >= ok_call.time
    assert emu.rejections() == [bad_call]
    assert emu.calls_of("SENDMESSAGE") == [ok_call, bad_call]


async def test_recording_can_be_switched_off(emu: Emulator, api: Api) -> None:
    emu.record_calls = False
    await api.ok("getMe")
    assert emu.calls == []


async def test_standalone_main_prints_the_base_url() -> None:
    import asyncio
    import sys

    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.emulator",
        "--port",
        "0",
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 20)
        base = line.decode().strip()
        assert base.startswith("http://127.0.0.1:")
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{base}/bot{Emulator.DEFAULT_TOKEN}/getMe") as response,
        ):
            assert (await response.json())["result"]["username"] == "opora_test_bot"
    finally:
        process.terminate()
        await process.wait()


async def test_wait_for_call(emu: Emulator, api: Api, anna: EmulatedUser) -> None:
    import asyncio

    from bot.emulator import EmulatorTimeout

    waiting = asyncio.create_task(
        emu.wait_for_call("sendmessage", predicate=lambda call: call.params["text"] == "b")
    )
    await api.ok("sendMessage", chat_id=anna.id, text="a")
    await api.ok("sendMessage", chat_id=anna.id, text="b")
    call = await waiting
    assert call.result["text"] == "b"
    assert (await emu.wait_for_call("sendMessage", count=2)).params["text"] == "b"
    with pytest.raises(EmulatorTimeout, match="expected 3 call"):
        await emu.wait_for_call("sendMessage", count=3, timeout=0.05)


async def test_lone_surrogates_are_rejected(api: Api, anna: EmulatedUser) -> None:
    assert await api.error("sendMessage", chat_id=anna.id, text="bad \ud800") == (
        400,
        "Bad Request: strings must be encoded in UTF-8",
    )


async def test_emulator_bugs_become_json_500(
    emu: Emulator, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.emulator import methods

    async def broken(*args: object) -> None:
        raise RuntimeError("boom")

    spec = methods.METHODS["getme"]
    monkeypatch.setitem(methods.METHODS, "getme", methods.MethodSpec(spec.name, broken))
    status, body = await api.call("getMe")
    assert status == 500
    assert "emulator bug" in body["description"]
