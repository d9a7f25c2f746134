"""The pre-call connection test: a Python aiortc client gets its own media back from the echo peer,
reports a verdict that reaches the clerk's waiting list; the cap, the timeout, shutdown and bad input."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import av
import pytest
from aiohttp import web
from aiortc import AudioStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription, VideoStreamTrack
from aiortc.mediastreams import MediaStreamTrack
from sqlalchemy import select

import signaling
from signaling.echo import ECHO
from tests.calls import Peer, booked_video, http, staff_cookie, verified_citizen
from tests.helpers import post_json
from tests.smtp import MailCatcher
from vibue.app import create_app
from vibue.core.clock import ManualClock
from vibue.core.settings import Settings
from vibue.models import Appointment, AuditEntry, CallParticipant
from vibue.web.appkeys import SESSIONS

START = "2026-11-30T08:00:00+01:00"  # s.berger serves the virtual office on Mondays
EMAIL = "erika@example.org"
GOOD = {"verdict": "good", "reason": "good", "rtt_ms": 12.4, "loss": 0.0, "bitrate_kbps": 512.25}


class Camera(VideoStreamTrack):
    """A synthetic camera: frames whose brightness changes, so the encoder has something to send."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = av.VideoFrame(width=320, height=240, format="yuv420p")
        self.count += 1
        for plane in frame.planes:
            plane.update(bytes([self.count * 7 % 256]) * plane.buffer_size)
        frame.pts = pts
        frame.time_base = time_base
        return frame


@dataclass
class Booked:
    base_url: str
    app: web.Application
    http: aiohttp.ClientSession
    token: str


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.replace(min_lead_minutes=0)


@pytest.fixture
def overrides() -> dict[str, Any]:
    """Settings a test changes (parametrise `overrides`)."""
    return {}


@pytest.fixture
async def served(
    aiohttp_server: Any, settings: Settings, clock: ManualClock, unused_tcp_port: int, overrides: dict[str, Any]
) -> Any:
    settings = settings.replace(base_url=f"http://127.0.0.1:{unused_tcp_port}", port=unused_tcp_port, **overrides)
    app = create_app(settings, clock=clock, setups=[signaling.setup])
    return await aiohttp_server(app, port=unused_tcp_port)


@pytest.fixture
async def booked(served: Any, mail_catcher: MailCatcher, clock: ManualClock) -> AsyncIterator[Booked]:
    """A confirmed video appointment at 08:00 whose room is open (it is 08:01)."""
    base_url = f"http://127.0.0.1:{served.port}"
    async with http(base_url) as session:
        token = await booked_video(session, mail_catcher, start=START, email=EMAIL)
        clock.advance(minutes=61)
        yield Booked(base_url, served.app, session, token)


class Client:
    """The browser's part of the test, in Python: offer audio and video, collect what comes back."""

    def __init__(self) -> None:
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.pc.addTrack(AudioStreamTrack())
        self.pc.addTrack(Camera())
        self.tracks: dict[str, MediaStreamTrack] = {}
        self.arrived = asyncio.Event()
        self.pc.on("track", self._track)

    def _track(self, track: MediaStreamTrack) -> None:
        self.tracks.setdefault(track.kind, track)
        self.arrived.set()

    async def offer(self) -> dict[str, str]:
        # aiortc gathers its candidates in setLocalDescription: the offer is complete (no trickle).
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return {"sdp": self.pc.localDescription.sdp, "type": "offer"}

    async def start(self, booked: Booked) -> str:
        response = await post_json(booked.http, f"/api/video/{booked.token}/connection-test", await self.offer())
        assert response.status == 200, await response.text()
        answer = await response.json()
        assert answer["type"] == "answer"
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))
        return str(answer["test_id"])

    async def frames(self, kind: str, count: int, seconds: float = 20.0) -> int:
        """Receive `count` frames of the echoed track of `kind`; returns how many arrived."""
        received = 0
        async with asyncio.timeout(seconds):
            while kind not in self.tracks:
                self.arrived.clear()
                await self.arrived.wait()
            while received < count:
                await self.tracks[kind].recv()
                received += 1
        return received

    async def close(self) -> None:
        await self.pc.close()


@pytest.fixture
async def client() -> AsyncIterator[Client]:
    browser = Client()
    yield browser
    await browser.close()


async def report(booked: Booked, test_id: str, **result: Any) -> Any:
    body = {**GOOD, "test_id": test_id, **result}
    return await post_json(booked.http, f"/api/video/{booked.token}/connection-test/result", body)


async def citizen_row(app: web.Application) -> CallParticipant | None:
    async with app[SESSIONS]() as session:
        return await session.scalar(
            select(CallParticipant)
            .join(Appointment, Appointment.id == CallParticipant.appointment_id)
            .where(Appointment.citizen_email == EMAIL, CallParticipant.role == "citizen")
        )


async def wait_until_closed(app: web.Application, seconds: float = 10.0) -> None:
    """Poll: the peers close on their own (timer, ICE consent), there is no event to wait for."""
    for _ in range(int(seconds / 0.05)):
        if not app[ECHO].open:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{app[ECHO].open} echo peers still open after {seconds} s")


async def test_the_echo_sends_media_back_and_the_verdict_reaches_the_waiting_list(
    booked: Booked, client: Client, mail_catcher: MailCatcher
) -> None:
    test_id = await client.start(booked)
    assert booked.app[ECHO].open == 1
    assert await client.frames("video", 5) == 5
    assert await client.frames("audio", 5) == 5
    # The loop-back has carried RTCP reports both ways by now, so the server has its own view.
    await asyncio.sleep(1.5)

    response = await report(booked, test_id)
    assert response.status == 200, await response.text()
    stored = await response.json()
    assert (stored["verdict"], stored["reason"], stored["rtt_ms"], stored["bitrate_kbps"]) == (
        "good",
        "good",
        12,
        512.2,
    )
    assert stored["server"]["packets"] > 0
    assert booked.app[ECHO].open == 0  # the test is over: its echo peer is closed

    row = await citizen_row(booked.app)
    assert row is not None
    assert (row.state, row.waiting_since, row.code_verified_at) == ("waiting", None, None)
    assert row.connection_test is not None
    assert row.connection_test["verdict"] == "good"
    assert not any(key in str(row.connection_test) for key in ("sdp", "candidate", "127.0.0.1"))
    async with booked.app[SESSIONS]() as session:
        audit = list(await session.scalars(select(AuditEntry).where(AuditEntry.action == "connection_test.result")))
    assert [entry.details for entry in audit] == [{"verdict": "good"}]

    # The code verification fills in the same row; the clerk's waiting list shows the result.
    join_token = await verified_citizen(booked.http, mail_catcher, token=booked.token, email=EMAIL)
    row = await citizen_row(booked.app)
    assert row is not None and row.code_verified_at is not None and row.connection_test is not None
    citizen, clerk = Peer(), Peer()
    try:
        await citizen.connect(booked.base_url, join_token=join_token)
        await citizen.next("waiting")
        await clerk.connect(booked.base_url, cookie=await staff_cookie(booked.app, booked.http, "s.berger"))
        waiting = (await clerk.call("lobby.watch"))["waiting"]
        assert [(w["citizen_name"], w["connection_test"]["verdict"]) for w in waiting] == [("Erika Mustermann", "good")]
        assert waiting[0]["connection_test"]["rtt_ms"] == 12

        # A test repeated while waiting reaches the watching clerk at once.
        again = await report(booked, test_id, verdict="limited", reason="high_rtt", rtt_ms=420)
        assert again.status == 200, await again.text()
        updated = await clerk.next("lobby.updated")
        assert updated["changed"][0]["connection_test"]["verdict"] == "limited"
        assert updated["changed"][0]["connection_test"]["server"] is None
    finally:
        await citizen.close()
        await clerk.close()


SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@SQLITE_ONLY
@pytest.mark.parametrize("overrides", [{"echo_peers_max": 1}])
async def test_offers_over_the_cap_are_turned_away(booked: Booked, client: Client) -> None:
    test_id = await client.start(booked)
    second = Client()
    try:
        busy = await post_json(booked.http, f"/api/video/{booked.token}/connection-test", await second.offer())
        assert busy.status == 503
        error = (await busy.json())["error"]
        assert error["code"] == "connection_test_busy"
        assert error["message"].startswith("Der Verbindungstest ist gerade ausgelastet.")
        assert booked.app[ECHO].open == 1
        # The first test reports: its peer is closed and the next test gets one.
        assert (await report(booked, test_id)).status == 200
        assert booked.app[ECHO].open == 0
        await second.start(booked)
        assert booked.app[ECHO].open == 1
    finally:
        await second.close()


@SQLITE_ONLY
@pytest.mark.parametrize("overrides", [{"echo_timeout_seconds": 0.5}])
async def test_peers_are_closed_after_the_timeout(booked: Booked, client: Client) -> None:
    test_id = await client.start(booked)
    assert booked.app[ECHO].open == 1
    await wait_until_closed(booked.app, seconds=5)
    # A late report is still stored; there is just no server-side view any more.
    response = await report(booked, test_id, verdict="none", reason="no_connection", rtt_ms=None, bitrate_kbps=None)
    assert response.status == 200, await response.text()
    assert (await response.json())["server"] is None


@SQLITE_ONLY
async def test_peers_are_closed_when_the_client_hangs_up(booked: Booked, client: Client) -> None:
    await client.start(booked)
    assert await client.frames("video", 2) == 2
    await client.close()
    await wait_until_closed(booked.app)


@SQLITE_ONLY
async def test_peers_are_closed_on_shutdown(booked: Booked, client: Client, served: Any) -> None:
    await client.start(booked)
    second = Client()
    try:
        await second.start(booked)
        assert booked.app[ECHO].open == 2
        await booked.http.close()  # no keep-alive connection may outlive the server
        await served.close()
        assert booked.app[ECHO].open == 0
    finally:
        await second.close()


MEDIA_LESS_OFFER = (
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n"
    "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
    "a=fingerprint:sha-256 " + ":".join(["AB"] * 32) + "\r\n"
    "a=setup:actpass\r\na=sctp-port:5000\r\n"
)


@pytest.mark.parametrize(
    ("body", "code", "fields"),
    [
        ({"sdp": "v=0"}, "validation_failed", {"type"}),
        ({"sdp": "v=0", "type": "answer"}, "validation_failed", {"type"}),
        ({"sdp": "", "type": "offer"}, "validation_failed", {"sdp"}),
        ({"sdp": "v" * 60_001, "type": "offer"}, "validation_failed", {"sdp"}),
        ({"sdp": 5, "type": "offer"}, "validation_failed", {"sdp"}),
        ({"sdp": "v=0", "type": "offer", "ip": "192.0.2.1"}, "validation_failed", {"ip"}),
        ({"sdp": "hello", "type": "offer"}, "connection_test_offer_invalid", {"sdp"}),
        ({"sdp": MEDIA_LESS_OFFER, "type": "offer"}, "connection_test_offer_invalid", {"sdp"}),
    ],
)
async def test_bad_offers(booked: Booked, body: dict[str, Any], code: str, fields: set[str]) -> None:
    response = await post_json(booked.http, f"/api/video/{booked.token}/connection-test", body)
    assert response.status == 422, await response.text()
    error = (await response.json())["error"]
    assert (error["code"], set(error["fields"])) == (code, fields)
    assert error["message"]
    assert booked.app[ECHO].open == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"verdict": "great"}, "verdict"),
        ({"reason": "High RTT!"}, "reason"),
        ({"reason": "x" * 201}, "reason"),
        ({"loss": 1.5}, "loss"),
        ({"loss": -0.1}, "loss"),
        ({"rtt_ms": "12"}, "rtt_ms"),
        ({"rtt_ms": True}, "rtt_ms"),
        ({"bitrate_kbps": [1]}, "bitrate_kbps"),
        ({"ip": "192.0.2.1"}, "ip"),
        ({"test_id": ""}, "test_id"),
    ],
)
async def test_bad_results(booked: Booked, change: dict[str, Any], field: str) -> None:
    response = await report(booked, **{"test_id": "x.y", **change})
    assert response.status == 422, await response.text()
    error = (await response.json())["error"]
    assert (error["code"], list(error["fields"])) == ("validation_failed", [field])


async def test_a_result_needs_a_test_id_of_this_appointment(booked: Booked) -> None:
    body = {**GOOD, "test_id": "made-up.0123456789abcdef0123456789abcdef"}
    del body["rtt_ms"]
    missing = await post_json(booked.http, f"/api/video/{booked.token}/connection-test/result", body)
    assert (await missing.json())["error"]["fields"] == {"rtt_ms": "Bitte füllen Sie dieses Feld aus."}
    for forged in ("made-up.0123456789abcdef0123456789abcdef", "é.ü"):  # non-ASCII once crashed the compare
        response = await report(booked, forged)
        assert response.status == 422
        error = (await response.json())["error"]
        assert (error["code"], list(error["fields"])) == ("connection_test_unknown", ["test_id"])
    assert await citizen_row(booked.app) is None


async def test_a_closed_room_and_an_unknown_link(
    served: Any, mail_catcher: MailCatcher, clock: ManualClock, client: Client
) -> None:
    async with http(f"http://127.0.0.1:{served.port}") as session:
        token = await booked_video(session, mail_catcher, start=START, email=EMAIL)
        # 07:00: the room of 08:00 opens at 07:45.
        for path, body in (
            ("connection-test", await client.offer()),
            ("connection-test/result", {**GOOD, "test_id": "a.b"}),
        ):
            response = await post_json(session, f"/api/video/{token}/{path}", body)
            assert response.status == 409, await response.text()
            assert (await response.json())["error"]["code"] == "video_not_open"
            unknown = await post_json(session, f"/api/video/{'x' * 43}/{path}", body)
            assert unknown.status == 404
            assert (await unknown.json())["error"]["code"] == "booking_not_found"
    assert served.app[ECHO].open == 0


@SQLITE_ONLY
async def test_both_requests_are_public_endpoints_in_the_openapi_document(booked: Booked) -> None:
    async with booked.http.get("/api/openapi.json") as response:
        paths = (await response.json())["paths"]
    tests = {path: ops["post"]["x-roles"] for path, ops in paths.items() if "/connection-test" in path}
    assert sorted(tests.values()) == [["public"], ["public"]]
    assert sorted(path.rsplit("}", 1)[1] for path in tests) == ["/connection-test", "/connection-test/result"]


@SQLITE_ONLY
async def test_an_offer_with_more_than_a_camera_and_a_microphone_is_refused(booked: Booked) -> None:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    try:
        for _ in range(5):
            pc.addTrack(Camera())
        await pc.setLocalDescription(await pc.createOffer())
        body = {"sdp": pc.localDescription.sdp, "type": "offer"}
        response = await post_json(booked.http, f"/api/video/{booked.token}/connection-test", body)
        assert response.status == 422, await response.text()
        assert (await response.json())["error"]["code"] == "connection_test_offer_invalid"
        assert booked.app[ECHO].open == 0
    finally:
        await pc.close()
