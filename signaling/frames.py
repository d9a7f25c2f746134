"""Engine.IO frames as they arrive, before python-socketio dispatches them: refused cheaply.

python-socketio decodes each frame in `AsyncServer._handle_eio_message`; whatever it cannot decode
(malformed packets, binary frames and attachments, JSON nested past the recursion limit) raised
there, and engine.io logged each with a 1–4 KB traceback, outside any rate limit. Here every
frame is decoded once and counted against the connection's event budget (the gate counts the
events it serves itself); a frame that is refused is logged at most once a minute per
connection, without a traceback, and a connection that keeps sending them is closed. Events
named like python-socketio's own (`connect`, `disconnect`, `connect_error`) or its catch-all
(`*`) never reach those handlers: they are unknown events (docs/signaling.md).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import socketio
from engineio.async_drivers import aiohttp as engineio_aiohttp
from socketio import packet

from signaling.packets import JsonOnlyPacket, SafeJson
from signaling.payloads import MAX_EVENT_BYTES
from vibue.core.errors import DomainError
from vibue.core.ratelimit import RateLimiter

log = logging.getLogger("vibue.signaling")

# Refused, not dispatched: python-socketio's reserved names and its catch-all.
REFUSED_NAMES = frozenset({"connect", "disconnect", "connect_error", "*"})
# Refused frames a connection may send before it is closed; a working client sends none.
MALFORMED_MAX = 10
LOG_EVERY_SECONDS = 60.0

# The Engine.IO packet types (open, close, ping, pong, message, upgrade, noop): the first
# character of every text frame engine.io can decode.
ENGINEIO_TYPES = frozenset("0123456")

# (event name, socket id) -> the acknowledgement of an event refused as it arrived (unknown, too
# large); it counts against the budget (gate.unknown, gate.too_large).
Refusal = Callable[[str, str], Awaitable[dict[str, Any]]]
# socket id -> the acknowledgement of an event whose payload could not be decoded.
Undecodable = Callable[[str], Awaitable[dict[str, Any]]]


class GuardedServer(socketio.AsyncServer):  # type: ignore[misc]  # python-socketio ships no types
    """The Socket.IO server with ViBü's frame rules; events then pass the gate (gate.py)."""

    def __init__(
        self,
        *,
        limiter: Callable[[], RateLimiter],
        budget: tuple[int, float],
        unknown: Refusal,
        too_large: Refusal,
        undecodable: Undecodable,
        monotonic: Callable[[], float] = time.monotonic,
        **kwargs: Any,
    ) -> None:
        super().__init__(serializer=JsonOnlyPacket, json=SafeJson, **kwargs)
        self._limiter = limiter  # read at each frame: tests replace the server's limiter
        self._budget = budget
        self._unknown = unknown
        self._too_large = too_large
        self._undecodable = undecodable
        self._now = monotonic
        self._malformed: dict[str, int] = {}  # eio sid -> refused frames so far
        self._logged: dict[str, float] = {}  # eio sid -> when a refused frame was last logged
        # This server's own copy of engine.io's driver table, with the WebSocket that refuses
        # text frames engine.io itself cannot decode.
        self.eio._async = {**self.eio._async, "websocket": EngineFrames}

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        socket = self.eio.sockets.get(eio_sid)
        if socket is None or socket.closing or socket.closed:
            return  # frames still queued after we closed the connection
        sid = self.manager.sid_from_eio_sid(eio_sid, "/")
        pkt = self.packet_class()
        try:
            pkt.decode(data)  # bytes too: the protocol has no binary frames
        except (ValueError, TypeError, RecursionError, IndexError) as exc:
            # The header is read before the JSON: an event with an ack id hears why.
            answer = pkt.packet_type == packet.EVENT and pkt.id is not None and sid is not None
            await self._refuse(eio_sid, sid, type(exc).__name__, answer=answer, pkt=pkt)
            return
        if pkt.packet_type == packet.EVENT and sid is not None and (pkt.namespace or "/") == "/":
            name = pkt.data[0] if isinstance(pkt.data, list) and pkt.data else None
            if not isinstance(name, str):
                await self._refuse(eio_sid, sid, "no event name", answer=pkt.id is not None, pkt=pkt)
            elif name in REFUSED_NAMES:
                await self._ack(eio_sid, pkt, await self._unknown(name, sid))
            elif frame_bytes(data) > MAX_EVENT_BYTES:
                await self._ack(eio_sid, pkt, await self._too_large(name, sid))
            else:
                await self._handle_event(eio_sid, pkt.namespace, pkt.id, pkt.data)  # the gate counts it
            return
        if pkt.packet_type not in (packet.CONNECT, packet.DISCONNECT):
            # An ack (the server asks for none), an event before connecting, any other type.
            await self._refuse(eio_sid, sid, f"packet type {pkt.packet_type}", answer=False, pkt=pkt)
        elif not self._within_budget(sid or eio_sid):
            return
        elif pkt.packet_type == packet.CONNECT:
            await self._handle_connect(eio_sid, pkt.namespace, pkt.data)
        else:
            await self._handle_disconnect(eio_sid, pkt.namespace, self.reason.CLIENT_DISCONNECT)

    async def _handle_eio_disconnect(self, eio_sid: str, reason: Any) -> None:
        self._malformed.pop(eio_sid, None)
        self._logged.pop(eio_sid, None)
        self._limiter().forget(eio_sid)
        await super()._handle_eio_disconnect(eio_sid, reason)

    def _within_budget(self, key: str) -> bool:
        limit, window = self._budget
        try:
            self._limiter().hit("events", key, limit=limit, window=window)
        except DomainError:
            return False
        return True

    async def _refuse(self, eio_sid: str, sid: str | None, why: str, *, answer: bool, pkt: Any) -> None:
        """A frame that is no event of the protocol: counted, logged once a minute, and the
        connection closed when it keeps sending them (over budget too)."""
        if not self._within_budget(sid or eio_sid):
            answer = False  # over budget: not even an answer
        refused = self._malformed[eio_sid] = self._malformed.get(eio_sid, 0) + 1
        now = self._now()
        last = self._logged.get(eio_sid)
        if last is None or now - last >= LOG_EVERY_SECONDS:
            self._logged[eio_sid] = now
            log.warning("socket %s: refused a frame (%s), %d so far", eio_sid, why, refused)
        if refused >= MALFORMED_MAX:
            await self._close(eio_sid)
        elif answer and sid is not None:
            await self._ack(eio_sid, pkt, await self._undecodable(sid))

    async def _close(self, eio_sid: str) -> None:
        socket = self.eio.sockets.get(eio_sid)
        await self.eio.disconnect(eio_sid)  # disconnect handlers run, engine.io's close packet is sent
        if socket is not None:
            # engine.io then waits for the client to close the WebSocket; ending its writer closes
            # it from here, so a client that ignores the close packet is cut off all the same.
            socket.queue.put_nowait(None)

    async def _ack(self, eio_sid: str, pkt: Any, answer: dict[str, Any]) -> None:
        if pkt.id is not None:
            await self._send_packet(
                eio_sid, self.packet_class(packet.ACK, namespace=pkt.namespace, id=pkt.id, data=[answer])
            )


def frame_bytes(frame: str | bytes) -> int:
    """The size of an event as the client sent it (its Socket.IO frame, in UTF-8): measured on
    the text that arrived, so no message is encoded a second time to be measured."""
    if isinstance(frame, bytes) or frame.isascii():  # isascii is O(1) on str: no scan, no copy
        return len(frame)
    return len(frame.encode("utf-8", "surrogatepass"))


class EngineFrames(engineio_aiohttp.WebSocket):  # type: ignore[misc]  # python-engineio ships no types
    """engine.io's aiohttp WebSocket, refusing the text frames engine.io cannot decode.

    engine.io decodes a frame before any of our code sees it: an empty frame or one that does
    not start with a packet type ended its reader with a traceback, one of an unknown type
    (`7...`) logged a traceback and went on reading. Such a frame ends the connection as if the
    client had closed it, with one warning line.
    """

    async def wait(self) -> Any:
        data = await super().wait()
        if isinstance(data, str) and (not data or data[0] not in ENGINEIO_TYPES):
            log.warning("socket refused a frame engine.io cannot decode; connection closed")
            return None  # read as the client closing: disconnect handlers run as usual
        return data
