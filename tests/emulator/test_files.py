"""Photos, documents, file ids and downloads."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from bot.emulator import EmulatedUser, Emulator

from .conftest import png


def _form(
    chat_id: int, field: str, data: bytes, filename: str, **extra: object
) -> aiohttp.FormData:
    form = aiohttp.FormData(quote_fields=False)
    form.add_field("chat_id", str(chat_id))
    for key, value in extra.items():
        form.add_field(key, value if isinstance(value, str) else json.dumps(value))
    form.add_field(field, data, filename=filename)
    return form


async def _post(
    http: aiohttp.ClientSession, url: str, form: aiohttp.FormData
) -> tuple[int, dict[str, Any]]:
    async with http.post(url, data=form) as response:
        return response.status, await response.json()


async def test_send_photo_upload_and_reuse(
    emu: Emulator, http: aiohttp.ClientSession, anna: EmulatedUser
) -> None:
    image = png(40, 30)
    status, body = await _post(
        http,
        emu.api_url("sendPhoto"),
        _form(anna.id, "photo", image, "pic.png", caption="<b>Фото</b>", parse_mode="HTML"),
    )
    assert status == 200, body
    photo = body["result"]["photo"][-1]
    assert (photo["width"], photo["height"]) == (40, 30)
    assert body["result"]["caption"] == "Фото"
    assert body["result"]["caption_entities"] == [{"type": "bold", "offset": 0, "length": 4}]
    message = await anna.next_message()
    assert message.kind == "photo"
    assert message.photo == image
    assert (message.width, message.height) == (40, 30)
    assert message.html == "<b>Фото</b>"

    # The file id can be sent again, as JSON this time.
    async with http.post(
        emu.api_url("sendPhoto"), json={"chat_id": anna.id, "photo": photo["file_id"]}
    ) as response:
        again = await response.json()
    assert again["ok"] is True
    assert again["result"]["photo"][-1]["file_id"] == photo["file_id"]


async def test_attach_reference_like_aiogram(
    emu: Emulator, http: aiohttp.ClientSession, anna: EmulatedUser
) -> None:
    form = aiohttp.FormData(quote_fields=False)
    form.add_field("chat_id", str(anna.id))
    form.add_field("photo", "attach://abc123")
    form.add_field("abc123", png(), filename="abc123")
    status, body = await _post(http, emu.api_url("sendPhoto"), form)
    assert status == 200, body


async def test_invalid_image(
    emu: Emulator, http: aiohttp.ClientSession, anna: EmulatedUser
) -> None:
    status, body = await _post(
        http, emu.api_url("sendPhoto"), _form(anna.id, "photo", b"not an image", "x.png")
    )
    assert status == 400
    assert body["description"] == "Bad Request: IMAGE_PROCESS_FAILED"
    status, body = await _post(
        http, emu.api_url("sendPhoto"), _form(anna.id, "photo", png(10, 300), "x.png")
    )
    assert body["description"] == "Bad Request: PHOTO_INVALID_DIMENSIONS"
    assert emu.delivered(anna.id) == 0


async def test_caption_too_long(
    emu: Emulator, http: aiohttp.ClientSession, anna: EmulatedUser
) -> None:
    status, body = await _post(
        http, emu.api_url("sendPhoto"), _form(anna.id, "photo", png(), "x.png", caption="x" * 1025)
    )
    assert (status, body["description"]) == (400, "Bad Request: message caption is too long")
    status, body = await _post(
        http,
        emu.api_url("sendPhoto"),
        _form(
            anna.id,
            "photo",
            png(),
            "x.png",
            caption="<i>" + "x" * 1024 + "</i>",
            parse_mode="HTML",
        ),
    )
    assert status == 200, body


async def test_wrong_file_ids(
    emu: Emulator, http: aiohttp.ClientSession, anna: EmulatedUser
) -> None:
    async def send(method: str, **params: object) -> str:
        async with http.post(emu.api_url(method), json={"chat_id": anna.id, **params}) as r:
            description: str = (await r.json())["description"]
            return description

    assert await send("sendPhoto", photo="AgACnope") == (
        "Bad Request: wrong file identifier/HTTP URL specified"
    )
    assert await send("sendPhoto") == "Bad Request: there is no photo in the request"
    doc = await anna.send_document(b"%PDF-1.4", "a.pdf")
    assert await send("sendPhoto", photo=doc.file_id) == (
        "Bad Request: can't use file of type Document as Photo"
    )
    async with http.post(
        emu.api_url("sendDocument"), json={"chat_id": anna.id, "document": doc.file_id}
    ) as response:
        assert (await response.json())["result"]["document"]["file_name"] == "a.pdf"


async def test_send_document(
    emu: Emulator, http: aiohttp.ClientSession, anna: EmulatedUser
) -> None:
    data = "id;name\n1;Анна\n".encode()
    status, body = await _post(
        http,
        emu.api_url("sendDocument"),
        _form(anna.id, "document", data, "report.csv", caption="Отчёт"),
    )
    assert status == 200, body
    document = body["result"]["document"]
    assert document["file_name"] == "report.csv"
    assert document["mime_type"] == "text/csv"
    assert document["file_size"] == len(data)
    message = await anna.next_message()
    assert message.document == data
    assert message.file_name == "report.csv"
    assert message.text == "Отчёт"


async def test_get_file_and_download(
    emu: Emulator, http: aiohttp.ClientSession, anna: EmulatedUser
) -> None:
    image = png(12, 12)
    sent = await anna.send_photo(image, caption="смотри")
    assert sent.file_id is not None
    async with http.post(emu.api_url("getFile"), json={"file_id": sent.file_id}) as response:
        file = (await response.json())["result"]
    assert file["file_size"] == len(image)
    async with http.get(emu.file_url(file["file_path"])) as response:
        assert response.status == 200
        assert await response.read() == image
    async with http.get(emu.file_url("photos/missing.jpg")) as response:
        assert response.status == 404
    async with http.post(emu.api_url("getFile"), json={"file_id": "nope"}) as response:
        assert (await response.json())["description"] == "Bad Request: invalid file_id"


async def test_user_sticker_and_document_updates(emu: Emulator, anna: EmulatedUser) -> None:
    await anna.send_sticker("🔥")
    await anna.send_document(b"hello", "hello.txt", caption="файл")
    updates = emu.pending_updates()
    sticker = updates[-2]["message"]["sticker"]
    assert sticker["emoji"] == "🔥"
    assert sticker["type"] == "regular"
    document = updates[-1]["message"]["document"]
    assert document["file_name"] == "hello.txt"
    assert document["mime_type"] == "text/plain"
    assert updates[-1]["message"]["caption"] == "файл"
