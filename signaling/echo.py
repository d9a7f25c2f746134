"""Server-side aiortc peers for the pre-call connection test: they send the citizen's media back.

The browser offers audio and video; the echo peer answers with the same tracks relayed back
(aiortc's MediaRelay, unbuffered so a slow encoder drops frames instead of adding delay). The
browser measures round-trip time, loss and bitrate of what comes back. Peers are capped per
process and closed when the test reports, when the connection fails, after a timeout and on
shutdown (the pattern of aiortc's examples/server/server.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamTrack

from vibue.core.errors import DomainError, Invalid

log = logging.getLogger("vibue.signaling.echo")

MEDIA_KINDS = ("audio", "video")
# Every echoed track is decoded and encoded again on this process: a camera and a microphone, a spare each.
MAX_TRACKS = 4
ECHO: web.AppKey[EchoPeers] = web.AppKey("echo_peers")


class Busy(DomainError):
    """Every echo peer of this process is in use: try again in a moment."""

    status = 503
    code = "connection_test_busy"


@dataclass
class EchoPeer:
    test_id: str
    appointment_id: int
    pc: RTCPeerConnection
    relay: MediaRelay = field(default_factory=MediaRelay)
    timer: asyncio.Task[None] | None = None


def server_summary(report: dict[str, Any]) -> dict[str, Any]:
    """What the server saw: loss of the citizen's packets, RTT from the browser's receiver reports."""
    received = lost = 0
    rtts: list[float] = []
    for stats in report.values():
        if stats.type == "inbound-rtp":
            received += max(0, stats.packetsReceived)
            lost += max(0, stats.packetsLost)
        elif stats.type == "remote-inbound-rtp" and stats.roundTripTime is not None:
            rtts.append(float(stats.roundTripTime))
    return {
        "rtt_ms": round(1000 * sum(rtts) / len(rtts)) if rtts else None,
        "loss": round(lost / (lost + received), 4) if lost + received else None,
        "packets": received,
    }


class EchoPeers:
    """The echo peers of one process."""

    def __init__(self, *, limit: int, timeout: float, stun_urls: list[str]) -> None:
        self.limit = limit
        self.timeout = timeout
        self.stun_urls = stun_urls
        self.peers: dict[str, EchoPeer] = {}

    @property
    def open(self) -> int:
        return len(self.peers)

    def _configuration(self) -> RTCConfiguration:
        # An explicit empty list: without it aiortc would ask Google's public STUN server.
        servers = [RTCIceServer(urls=self.stun_urls)] if self.stun_urls else []
        return RTCConfiguration(iceServers=servers)

    async def answer(self, *, test_id: str, appointment_id: int, offer_sdp: str) -> str:
        """Answer a browser's offer with an echo peer; returns the answer SDP."""
        # Checked and taken before the first await, so concurrent offers cannot overshoot the cap.
        if len(self.peers) >= self.limit:
            raise Busy()
        if test_id in self.peers:
            raise Invalid("connection_test_offer_invalid")
        pc = RTCPeerConnection(configuration=self._configuration())
        peer = EchoPeer(test_id, appointment_id, pc)
        self.peers[test_id] = peer

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            # Fired inside setRemoteDescription, so the answer below already sends the echo.
            if track.kind in MEDIA_KINDS:
                pc.addTrack(peer.relay.subscribe(track, buffered=False))

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState in ("failed", "closed"):
                await self.close(test_id)

        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
            echoed = [t for t in pc.getTransceivers() if t.kind in MEDIA_KINDS and t.sender.track is not None]
            if not echoed or len(pc.getTransceivers()) > MAX_TRACKS:
                raise ValueError("nothing to echo, or more than a camera and a microphone")
            # aiortc gathers its candidates in setLocalDescription: the answer is complete (no trickle).
            await pc.setLocalDescription(await pc.createAnswer())
        except Exception as exc:
            await self.close(test_id)
            log.info("connection test offer refused: %s", type(exc).__name__)
            raise Invalid("connection_test_offer_invalid", fields={"sdp": "field.sdp"}) from None
        peer.timer = asyncio.create_task(self._expire(test_id))
        return str(pc.localDescription.sdp)

    async def _expire(self, test_id: str) -> None:
        await asyncio.sleep(self.timeout)
        await self.close(test_id, expired=True)

    async def close(self, test_id: str, *, expired: bool = False) -> dict[str, Any] | None:
        """Close one peer (idempotent); returns the server's view of the test, None if it was not open."""
        peer = self.peers.pop(test_id, None)
        if peer is None:
            return None
        if peer.timer is not None and peer.timer is not asyncio.current_task():
            peer.timer.cancel()
        summary: dict[str, Any] | None = None
        with contextlib.suppress(Exception):
            summary = server_summary(await peer.pc.getStats())
        await peer.pc.close()
        log.debug("connection test closed%s: %s", " (timeout)" if expired else "", summary)
        return summary

    def get(self, test_id: str) -> EchoPeer | None:
        return self.peers.get(test_id)

    async def close_all(self) -> None:
        timers = [peer.timer for peer in self.peers.values() if peer.timer is not None]
        await asyncio.gather(*(self.close(test_id) for test_id in list(self.peers)))
        await asyncio.gather(*timers, return_exceptions=True)
