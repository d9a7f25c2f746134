"""Frames that are no event of the protocol cost nothing to refuse (signaling/frames.py): a raw
WebSocket client sends engine.io/socket.io frames as an attacker would, and the log, the
connection and the event budget are watched."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import aiohttp
import pytest

import signaling
from signaling.frames import MALFORMED_MAX, frame_bytes
from signaling.payloads import MAX_EVENT_BYTES
from tests.signaling import test_signaling
from tests.signaling.test_signaling import Call, admitted
from vibue.core.ratelimit import RateLimiter
from vibue.web.appkeys import SETTINGS

# What python-socketio could not decode, each with a traceback in the log before.
# The fixtures of the signaling tests: the app with signaling, a citizen waiting, a clerk connected.
settings = test_signaling.settings
served = test_signaling.served
call = test_signaling.call

# Engine.IO frames: "4" is a message, and a message carries one socket.io packet.
MALFORMED: list[str | bytes] = [
    "42x{",  # no JSON
    '451-["chat.send",{"_placeholder":true,"num":0}]',  # binary attachments announced
    b"\x00\x01 binary frame",
    "42",  # an event without data
    "42[]",  # an event without a name
    '43["not asked for"]',  # an ack the server never asked for
    "49",  # no such packet type
    "4x",  # not even a packet type
    "42" + "[" * 20_000 + "]" * 20_000,  # nested past the recursion limit
    "4" + "[" * 20_000 + "]" * 20_000,  # the same, where engine.io decodes the JSON itself
]


class RawSocket:
    """A WebSocket speaking engine.io v4 and socket.io v5 by hand."""

    def __init__(self) -> None:
        self.http = aiohttp.ClientSession()
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.received: list[str] = []

    async def open(self, base_url: str, cookie: str) -> None:
        self.ws = await self.http.ws_connect(
            f"{base_url}/socket.io/?EIO=4&transport=websocket", headers={"Cookie": f"vibue_staff={cookie}"}
        )
        assert (await self.ws.receive_str()).startswith("0{")  # engine.io open
        await self.ws.send_str("40{}")  # socket.io connect, with the staff cookie
        assert (await self.ws.receive_str()).startswith("40{")

    async def send(self, frame: str | bytes) -> None:
        assert self.ws is not None
        if isinstance(frame, bytes):
            await self.ws.send_bytes(frame)
        else:
            await self.ws.send_str(frame)

    async def event(self, ack_id: int, name: str, payload: Any = None) -> None:
        await self.send(f"42{ack_id}" + json.dumps([name] if payload is None else [name, payload]))

    async def ack(self, ack_id: int) -> Any:
        """The acknowledgement of event `ack_id` (frames in between are kept)."""
        assert self.ws is not None
        prefix = f"43{ack_id}["
        async with asyncio.timeout(10):
            while True:
                for frame in self.received:
                    if frame.startswith(prefix):
                        return json.loads(frame[2 + len(str(ack_id)) :])[0]
                message = await self.ws.receive()
                assert message.type == aiohttp.WSMsgType.TEXT, message
                if message.data == "2":  # engine.io ping
                    await self.ws.send_str("3")
                self.received.append(message.data)

    async def closed_by_server(self) -> bool:
        assert self.ws is not None
        async with asyncio.timeout(10):
            while True:
                message = await self.ws.receive()
                if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING):
                    return True

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        await self.http.close()


async def raw(call: Call) -> RawSocket:
    socket = RawSocket()
    await socket.open(call.base_url, call.clerk_cookie)
    return socket


def frozen_limiter(call: Call) -> None:
    """Time stands still for the limiter: the window never clears, however slow the machine."""
    call.app[signaling.SIGNALING].limiter = RateLimiter(call.app[SETTINGS].secret_key, monotonic=lambda: 0.0)


async def test_a_flood_of_malformed_frames_is_logged_once_and_closes_the_connection(
    call: Call, caplog: pytest.LogCaptureFixture
) -> None:
    await admitted(call)
    socket = await raw(call)
    caplog.clear()
    sent = 0
    try:
        for n in range(3_000):
            await socket.send(MALFORMED[n % len(MALFORMED)])
            sent += 1
    except ConnectionError:
        pass  # the server closed the connection meanwhile
    assert await socket.closed_by_server()
    await socket.close()
    assert sent >= MALFORMED_MAX
    assert not [r for r in caplog.records if r.exc_info], "no tracebacks"
    assert len(caplog.text) < 300, caplog.text[:2000]
    assert len([r for r in caplog.records if "refused a frame" in r.getMessage()]) == 1
    # The call itself goes on.
    assert (await call.citizen.call("chat.send", {"text": "noch da"}))["ok"]


async def test_every_frame_counts_against_the_connections_budget(call: Call) -> None:
    frozen_limiter(call)
    socket = await raw(call)
    try:
        for frame in MALFORMED[: MALFORMED_MAX - 1]:  # refused, but not yet enough to be closed
            await socket.send(frame)
        budget = 100 - (MALFORMED_MAX - 1)
        for n in range(1, budget + 2):
            await socket.event(n, "no.such.event", {})
        assert (await socket.ack(budget))["error"]["code"] == "unknown_event"
        assert (await socket.ack(budget + 1))["error"]["code"] == "rate_limited"
    finally:
        await socket.close()


@pytest.mark.parametrize("name", ["connect", "disconnect", "*"])
async def test_events_named_like_socketios_own_are_unknown_and_counted(call: Call, name: str) -> None:
    await admitted(call)
    frozen_limiter(call)
    socket = await raw(call)
    try:
        for n in range(1, 102):
            await socket.event(n, name, {})
        first = await socket.ack(1)
        assert first["ok"] is False and first["error"]["code"] == "unknown_event", first
        assert any(f.startswith('42["error",') and '"unknown_event"' in f for f in socket.received)
        assert (await socket.ack(101))["error"]["code"] == "rate_limited"
    finally:
        await socket.close()
    assert (await call.citizen.call("chat.send", {"text": "noch da"}))["ok"]


def test_an_events_size_is_its_frame_in_utf8() -> None:
    plain = '2["chat.send",{"text":"Gruss"}]'
    assert frame_bytes(plain) == len(plain) == 31
    assert frame_bytes('2["chat.send",{"text":"Grüße"}]') == 33  # ü and ß are two bytes each
    assert frame_bytes('2["x","\ud800"]') == 12  # a lone surrogate (3 bytes) measures without an error


async def test_an_oversized_event_is_refused_after_the_rate_and_the_call_goes_on(call: Call) -> None:
    citizen_id, _ = await admitted(call)
    frozen_limiter(call)
    socket = await raw(call)
    text = "ä" * (MAX_EVENT_BYTES // 2)  # fewer characters than the limit, more bytes
    try:
        await socket.send("421" + json.dumps(["chat.send", {"text": text}], ensure_ascii=False))
        for n in range(2, 101):
            await socket.event(n, "signal", {"to": citizen_id, "description": {"type": "offer", "sdp": "x" * 70_000}})
        await socket.event(101, "signal", {"to": citizen_id, "restart": True})
        assert (await socket.ack(1))["error"]["code"] == "too_large"
        assert (await socket.ack(100))["error"]["code"] == "too_large"
        assert (await socket.ack(101))["error"]["code"] == "rate_limited", "counted, and the rate comes first"
    finally:
        await socket.close()
    assert (await call.citizen.call("chat.send", {"text": "noch da"}))["ok"]


@pytest.mark.parametrize("depth", [20_000, 990])
async def test_deeply_nested_payloads_are_a_clean_refusal(
    call: Call, caplog: pytest.LogCaptureFixture, depth: int
) -> None:
    socket = await raw(call)
    try:
        await socket.send("421" + json.dumps(["lobby.watch"])[:-1] + "," + "[" * depth + "]" * depth + "]")
        assert (await socket.ack(1))["error"]["code"] == "invalid_payload"
        await socket.event(2, "lobby.watch", {})
        assert (await socket.ack(2))["ok"] is True, "the connection still serves"
    finally:
        await socket.close()
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


async def test_refused_frames_close_the_connection_over_budget_too(call: Call) -> None:
    frozen_limiter(call)
    socket = await raw(call)
    try:
        for n in range(1, 101):
            await socket.event(n, "no.such.event", {})
        assert (await socket.ack(100))["error"]["code"] == "unknown_event"
        for frame in MALFORMED[:MALFORMED_MAX]:
            await socket.send(frame)
        assert await socket.closed_by_server()
    finally:
        await socket.close()


@pytest.mark.parametrize("frame", ["", "x", "7abc"])
async def test_frames_engineio_cannot_decode_close_the_connection_with_one_line_of_log(
    call: Call, caplog: pytest.LogCaptureFixture, frame: str
) -> None:
    socket = await raw(call)
    caplog.clear()
    try:
        for _ in range(1_000):
            await socket.send(frame)
    except ConnectionError:
        pass  # closed meanwhile
    assert await socket.closed_by_server()
    await socket.close()
    assert not [r for r in caplog.records if r.exc_info], "no tracebacks"
    assert len(caplog.text) < 300, caplog.text[:2000]
