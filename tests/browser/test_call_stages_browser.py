"""The parts of the video appointment that test_call_browser.py does not show, in two browsers with
fake cameras and microphones:

- before the room opens: the countdown and the checklist instead of the pre-call card, and the page
  opening the room by itself when the clock reaches the opening (no reload);
- the pre-call card: the microphone level meter moving with Chromium's fake microphone (a beep),
  the camera and microphone selects listing the fake devices, the preview staying live after
  choosing another camera or microphone;
- the waiting room: its status text and the checklist, then the late notice when the clerk runs
  late (the server's `tell_late`);
- the citizen's own hang-up: the clerk sees that the citizen left, and the appointment is not
  completed until the clerk records the outcome;
- a lost connection in the call: the clerk sees "Verbindung wird wiederhergestellt" while the
  citizen is gone; a network change without a reload resumes with an ICE restart on the same peer
  connection, and a closed tab comes back (new code, no waiting room, no new admission) within the
  grace period.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import aiohttp
import pyotp
import pytest
from aiohttp import web
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from signaling.server import SIGNALING
from tests.booking_flow import identity_code_from_mail
from tests.browser.conftest import CHROMIUM_ARGS, PageErrors, new_page
from tests.browser.test_call_browser import (
    EMAIL,
    KEEP_PEERS,
    LIVE_PEER,
    book,
    citizen_reaches_waiting_room,
    clerk_admits,
    decodes_video,
    start_call,
)
from tests.browser.test_staff_browser import at_app_time, password_of, secret_of, sign_in
from tests.smtp import MailCatcher
from vibue.core.clock import ManualClock
from vibue.core.settings import Settings

# The real strings of web/i18n/de.json.
WAITING_TEXT = "Sie sind im Warteraum – die Sachbearbeitung holt Sie gleich ab."
IN_WAITING_ROOM = "Verbunden. Bitte lassen Sie diese Seite geöffnet."
WAITING_LATE = (
    "Die Sachbearbeitung braucht noch einen Moment. Bitte bleiben Sie im Warteraum – Sie werden gleich abgeholt."
)
PEER_RECONNECTING = "Verbindung wird wiederhergestellt …"
SELF_RECONNECTING = "Ihre Verbindung ist unterbrochen – wird wiederhergestellt …"
PEER_LEFT = "Die Gegenseite hat das Gespräch verlassen."
CONNECTED = "Verbunden"
HUNG_UP = "Sie haben das Gespräch verlassen"

# Chromium's fake capture posing as three cameras (it always offers three microphones). Three, not two: the second
# fake camera (fake_device_1) delivers Y16 depth frames, which a <video> shows but which never
# reach a peer connection's encoder; the third (fake_device_2) is an ordinary camera.
CAMERAS = ["fake_device_0", "fake_device_1", "fake_device_2"]
MICROPHONES = ["Fake Default Audio Input", "Fake Audio Input 1", "Fake Audio Input 2"]
CHOSEN_CAMERA, CHOSEN_MICROPHONE = CAMERAS[2], MICROPHONES[1]

PREVIEW = "document.querySelector('[data-testid=precall-preview]')"
# 40 readings of the level meter, 50 ms apart (the page measures every 100 ms).
METER_READINGS = """() => new Promise((resolve) => {
  const meter = document.querySelector('[data-testid=mic-level]');
  const seen = [];
  const timer = setInterval(() => {
    seen.push(meter.value);
    if (seen.length >= 40) { clearInterval(timer); resolve(seen); }
  }, 50);
})"""

# Test-only instrumentation: remember every WebSocket, so the test can drop the signaling
# connection as a network change does. Chromium's offline emulation (context.set_offline) fails
# new connections but leaves open WebSockets and WebRTC media alone (Playwright issue #4910).
SLOW = timedelta(minutes=10)
KEEP_SOCKETS = """
(() => {
  const Original = window.WebSocket;
  window.__sockets = [];
  window.WebSocket = class extends Original {
    constructor(...args) { super(...args); window.__sockets.push(this); }
  };
})();
"""
OFFLINE_ATTEMPT = "failed: Error in connection establishment: net::ERR_INTERNET_DISCONNECTED"
UFRAG = f"({LIVE_PEER}).localDescription.sdp.match(/a=ice-ufrag:(\\S+)/)[1]"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.replace(reconnect_grace_seconds=30.0)


async def until(page: Page, expression: str, what: str, *, tries: int = 150) -> None:
    """Poll a JavaScript expression until it is true (wait_for_function evals a string, which the
    pages' CSP forbids)."""
    for _ in range(tries):
        if await page.evaluate(expression):
            return
        await page.wait_for_timeout(100)
    raise AssertionError(f"{what} on {page.url}")


async def confirm_code(page: Page, catcher: MailCatcher, *, mail_count: int) -> None:
    """Ask for the identity code, read it from the mail (the mail_count-th to EMAIL) and enter it."""
    await page.get_by_test_id("request-code").click()
    await expect(page.get_by_test_id("code-status")).to_contain_text("e***@example.org")
    code = await identity_code_from_mail(catcher, EMAIL, count=mail_count)
    await page.get_by_test_id("code-input").fill(code)
    await page.get_by_test_id("verify-code").click()


async def status_of(base_url: str, token: str) -> str:
    async with aiohttp.ClientSession(base_url=base_url) as session, session.get(f"/api/bookings/{token}") as answer:
        status: str = (await answer.json())["status"]
    return status


async def checklist_of(base_url: str, token: str) -> list[str]:
    async with aiohttp.ClientSession(base_url=base_url) as session, session.get(f"/api/video/{token}") as answer:
        items: list[str] = (await answer.json())["checklist"]
    assert items, "the concern has no checklist: nothing to show"
    return items


async def assert_meter_moves(page: Page) -> None:
    """The level meter follows the fake microphone's beep: loud readings and quiet ones."""
    readings: list[float] = await page.evaluate(METER_READINGS)
    assert max(readings) > 0.15, f"the level meter does not move: {readings}"
    assert max(readings) - min(readings) > 0.1, f"the level meter stands still: {readings}"


async def assert_preview_live(page: Page, device_label: str) -> None:
    """The preview shows the chosen camera, and its frames keep coming."""
    track = f"({PREVIEW}.srcObject && {PREVIEW}.srcObject.getVideoTracks()[0])"
    shows = f"Boolean({track}) && {track}.readyState === 'live' && {track}.label === {device_label!r}"
    await until(page, shows, f"the preview does not show {device_label}")
    frames = f"{PREVIEW}.getVideoPlaybackQuality().totalVideoFrames"
    before = await page.evaluate(frames)
    await until(page, f"!{PREVIEW}.paused && {frames} > {before}", "the preview stands still")


@asynccontextmanager
async def three_camera_browser(chromium: str) -> AsyncIterator[Browser]:
    """Chromium whose fake capture poses as three cameras."""
    args = [a for a in CHROMIUM_ARGS if not a.startswith("--use-fake-device")]
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium, args=[*args, "--use-fake-device-for-media-stream=device-count=3,fps=10"]
        )
        try:
            yield browser
        finally:
            await browser.close()


async def test_countdown_pre_call_card_waiting_room_late_notice_and_the_citizens_hang_up(
    chromium: str,
    base_url: str,
    app: web.Application,
    clock: ManualClock,
    mail_catcher: MailCatcher,
    page_errors: PageErrors,
) -> None:
    token = await book(base_url, mail_catcher)  # 07:00, the slot at 08:00: the room opens at 07:45
    checklist = await checklist_of(base_url, token)
    async with three_camera_browser(chromium) as browser:
        citizen = await new_page(browser, page_errors)
        # The citizen's device clock runs ten minutes slow: the countdown goes by the server's.
        await citizen.clock.set_system_time(clock.now() - SLOW)

        # 1. Too early: a countdown and the checklist, no camera yet.
        await citizen.goto(f"{base_url}/video/{token}")
        countdown = citizen.get_by_test_id("countdown")
        await expect(countdown).to_have_text(re.compile(r"^Der Videoraum öffnet 07:45 Uhr – in 4\d:\d\d Minuten\.$"))
        await expect(countdown).not_to_have_text(await countdown.text_content() or "")  # it counts down
        await expect(citizen.get_by_test_id("checklist").locator("li")).to_have_text(checklist)
        await expect(citizen.get_by_test_id("precall-preview")).to_be_hidden()
        await expect(citizen.get_by_test_id("request-code")).to_be_hidden()
        assert await citizen.evaluate(f"{PREVIEW}.srcObject") is None

        # The opening comes while the page stays open: it asks the server and shows the card.
        clock.advance(minutes=45)
        await citizen.clock.set_system_time(clock.now() - SLOW)
        await expect(citizen.get_by_test_id("precall-preview")).to_be_visible(timeout=20_000)
        await expect(countdown).to_be_hidden()
        await expect(citizen.locator("#live-status")).to_have_text("Der Videoraum ist jetzt geöffnet.")

        # 2. The pre-call card: both fake cameras and the fake microphones, the meter moving.
        camera, microphone = citizen.get_by_test_id("device-camera"), citizen.get_by_test_id("device-microphone")
        await expect(camera.locator("option")).to_have_text(CAMERAS)
        await expect(microphone.locator("option")).to_have_text(MICROPHONES)
        await expect(camera.locator("option:checked")).to_have_text(CAMERAS[0])
        if await citizen.get_by_test_id("mic-level-start").is_visible():
            await citizen.get_by_test_id("mic-level-start").click()  # as a user would, where audio waits
        await assert_preview_live(citizen, CAMERAS[0])
        assert await citizen.evaluate(f"{PREVIEW}.muted"), "the preview would play the microphone back: echo"
        await assert_meter_moves(citizen)

        await camera.select_option(label=CHOSEN_CAMERA)
        await assert_preview_live(citizen, CHOSEN_CAMERA)
        await microphone.select_option(label=CHOSEN_MICROPHONE)
        audio = f"{PREVIEW}.srcObject.getAudioTracks()[0]"
        await until(
            citizen,
            f"{audio}.label === {CHOSEN_MICROPHONE!r} && {audio}.readyState === 'live'",
            "the microphone was not changed",
        )
        await assert_meter_moves(citizen)
        await assert_preview_live(citizen, CHOSEN_CAMERA)

        # 3. The waiting room: its text, the connection status and the checklist; no late notice yet.
        await confirm_code(citizen, mail_catcher, mail_count=3)
        waiting = citizen.get_by_test_id("waiting-room")
        await expect(waiting).to_be_visible()
        await expect(waiting).to_contain_text(WAITING_TEXT)
        await expect(citizen.get_by_test_id("waiting-status")).to_have_text(IN_WAITING_ROOM)
        await expect(citizen.get_by_test_id("checklist").locator("li")).to_have_text(checklist)
        # A language switch carries the status line and the connection test along.
        await citizen.get_by_role("button", name="English").click()
        await expect(citizen.get_by_test_id("waiting-status")).to_have_text("Connected. Please keep this page open.")
        await expect(citizen.get_by_test_id("conntest").locator("h3")).to_have_text("Connection test")
        await citizen.get_by_role("button", name="Deutsch").click()
        await expect(citizen.get_by_test_id("waiting-status")).to_have_text(IN_WAITING_ROOM)
        await expect(citizen.get_by_test_id("conntest").locator("h3")).to_have_text("Verbindungstest")
        await expect(citizen.get_by_test_id("waiting-late")).to_be_hidden()

        # The clerk runs late: 08:06, past the start by more than five minutes.
        clock.advance(minutes=21)
        await app[SIGNALING].tell_late()
        await expect(citizen.get_by_test_id("waiting-late")).to_be_visible()
        await expect(citizen.get_by_test_id("waiting-late")).to_have_text(WAITING_LATE)
        await expect(citizen.locator("#live-status")).to_have_text(WAITING_LATE)
        await expect(waiting).to_contain_text(WAITING_TEXT)
        await expect(citizen.get_by_test_id("checklist").locator("li")).to_have_text(checklist)

        # Admitted after all; the call uses the camera chosen on the card.
        clerk = await new_page(browser, page_errors)
        await at_app_time(clerk, clock)
        await clerk_admits(clerk, base_url, app, clock)
        await expect(citizen.get_by_test_id("call-view")).to_be_visible()
        await decodes_video(citizen)
        await decodes_video(clerk)
        local = "document.querySelector('[data-testid=local-video]').srcObject.getVideoTracks()[0].label"
        assert await citizen.evaluate(local) == CHOSEN_CAMERA

        # 6. The citizen hangs up: gone from the call, but the appointment is not completed by that.
        await citizen.get_by_test_id("hangup").click()
        await expect(citizen.get_by_test_id("call-stopped")).to_be_visible()
        await expect(citizen.locator("#stopped-heading")).to_have_text(HUNG_UP)
        await expect(citizen.get_by_test_id("call-view")).to_be_hidden()
        # The clerk is told (status line and live region) and the citizen's picture goes.
        await expect(clerk.locator("#live-status")).to_have_text(PEER_LEFT)
        await expect(clerk.get_by_test_id("remote-video")).to_have_count(0)
        await expect(clerk.get_by_test_id("call-status")).to_have_text(PEER_LEFT)
        assert await status_of(base_url, token) == "in_call"

        # A slip of the finger: "Wieder in den Warteraum" brings the citizen back to wait, the
        # clerk sees them in the waiting list again and admits them anew.
        await citizen.get_by_test_id("rejoin").click()
        await expect(citizen.get_by_test_id("waiting-room")).to_be_visible()
        # The clerk is still in the call view (the waiting list is hidden): admission from there.
        await expect(clerk.get_by_test_id("readmit-box")).to_be_visible(timeout=15_000)
        await expect(clerk.get_by_test_id("call-status")).to_have_text(PEER_LEFT)
        await clerk.get_by_test_id("readmit").click()
        await expect(clerk.get_by_test_id("readmit-box")).to_be_hidden()
        await expect(citizen.get_by_test_id("call-view")).to_be_visible()
        await decodes_video(citizen)
        await decodes_video(clerk)

        # The clerk still records identity and outcome; only that completes the appointment.
        await clerk.get_by_test_id("identity-document").select_option("personalausweis")
        await clerk.get_by_test_id("identity-confirm").click()
        await expect(clerk.get_by_test_id("identity-status")).to_have_attribute("data-checked", "true")
        await clerk.get_by_test_id("outcome-completed").check()
        await clerk.get_by_test_id("end-call").click()
        await expect(clerk.get_by_test_id("call-view")).to_be_hidden()
        assert await status_of(base_url, token) == "completed"
        assert page_errors.errors == []


async def test_a_lost_connection_resumes_without_a_new_admission(
    browser: Browser,
    base_url: str,
    app: web.Application,
    clock: ManualClock,
    mail_catcher: MailCatcher,
    page_errors: PageErrors,
) -> None:
    citizen, clerk, token = await start_call(
        browser, base_url, app, clock, mail_catcher, page_errors, init_script=KEEP_PEERS + KEEP_SOCKETS
    )
    context: BrowserContext = citizen.context
    await expect(citizen.get_by_test_id("call-status")).to_have_text(CONNECTED)
    peers_before = await citizen.evaluate("window.__peers.length")
    ufrag_before = await citizen.evaluate(UFRAG)

    # 5. A network change without a reload: offline, the signaling connection drops, and the
    # page's attempts to reconnect fail until the network is back.
    await context.set_offline(True)
    async with citizen.expect_console_message(lambda message: OFFLINE_ATTEMPT in message.text, timeout=15_000):
        await citizen.evaluate("window.__sockets.forEach((ws) => ws.close())")
        await expect(citizen.get_by_test_id("call-status")).to_have_text(SELF_RECONNECTING)
        await expect(clerk.get_by_test_id("call-status")).to_have_text(PEER_RECONNECTING)
    await expect(citizen.get_by_test_id("call-status")).to_have_text(SELF_RECONNECTING)

    # ... and back online: the same peer connection restarts ICE; no waiting room, no admission.
    await context.set_offline(False)
    await expect(citizen.get_by_test_id("call-status")).to_have_text(CONNECTED, timeout=20_000)
    await expect(clerk.get_by_test_id("call-status")).to_have_text(CONNECTED, timeout=20_000)
    await until(citizen, f"{UFRAG} !== {ufrag_before!r}", "no ICE restart after the network came back")
    assert await citizen.evaluate("window.__peers.length") == peers_before, "a new peer connection, not a restart"
    await expect(citizen.get_by_test_id("waiting-room")).to_be_hidden()
    await expect(citizen.get_by_test_id("call-view")).to_be_visible()
    await decodes_video(citizen)
    await decodes_video(clerk)

    # A switch of networks that the browser reports (offline, then online): socket.io-client
    # drops the old connection on "offline" and the page connects anew once online. (A switch
    # the browser does not report is found by the server's ping within 20 s.)
    sockets = await citizen.evaluate("window.__sockets.length")
    await context.set_offline(True)
    await context.set_offline(False)
    await until(citizen, f"window.__sockets.length > {sockets}", "no new connection after going online")
    await expect(citizen.get_by_test_id("call-status")).to_have_text(CONNECTED, timeout=20_000)
    await expect(citizen.get_by_test_id("waiting-room")).to_be_hidden()
    await decodes_video(clerk)

    # 4. The citizen's tab is closed: the clerk sees the connection being restored ...
    clock.advance(minutes=1)  # time goes on (the grace period is told apart by the moment it began)
    await citizen.close()
    await expect(clerk.get_by_test_id("call-status")).to_have_text(PEER_RECONNECTING)
    await expect(clerk.get_by_test_id("call-reconnecting")).to_be_visible()
    await expect(clerk.get_by_test_id("call-view")).to_be_visible()

    # ... and the citizen comes back by the mail's link within the grace period (30 s in these
    # tests): a new code, then straight into the call, without the waiting room or an admission.
    back = await context.new_page()
    back.set_default_timeout(15_000)
    page_errors.attach(back)
    await back.goto(f"{base_url}/video/{token}")
    await expect(back.get_by_test_id("precall-preview")).to_be_visible()
    await confirm_code(back, mail_catcher, mail_count=4)
    await expect(back.get_by_test_id("call-view")).to_be_visible(timeout=20_000)
    await expect(back.get_by_test_id("waiting-room")).to_be_hidden()
    await expect(clerk.get_by_test_id("call-status")).to_have_text(CONNECTED, timeout=20_000)
    await expect(clerk.get_by_test_id("call-reconnecting")).to_be_hidden()
    await decodes_video(back)
    await decodes_video(clerk)
    assert await status_of(base_url, token) == "in_call"
    # Chromium itself logs each refused connection attempt while offline; nothing else may appear.
    assert [e for e in page_errors.errors if OFFLINE_ATTEMPT not in e] == []


async def test_a_citizen_sent_away_as_too_early_comes_back_to_the_waiting_room(
    browser: Browser,
    base_url: str,
    app: web.Application,
    clock: ManualClock,
    mail_catcher: MailCatcher,
    page_errors: PageErrors,
) -> None:
    token = await book(base_url, mail_catcher)
    clock.advance(minutes=50)  # 07:50: the room is open
    citizen = await new_page(browser, page_errors)
    clerk = await new_page(browser, page_errors)
    for page in (citizen, clerk):
        await at_app_time(page, clock)
    await citizen_reaches_waiting_room(citizen, base_url, token, mail_catcher)
    code = pyotp.TOTP(await secret_of(app, "s.berger")).at(clock.now())
    await sign_in(clerk, base_url, "s.berger", password_of("s.berger"), code)
    waiting = clerk.get_by_test_id("waiting-list")
    await expect(waiting).to_contain_text("Erika Mustermann", timeout=15_000)

    # The clerk's dialog asks for a reason before anything happens.
    await clerk.locator("[data-testid^='deny-']").first.click()
    await clerk.get_by_test_id("deny-confirm").click()
    await expect(clerk.locator("#deny-alert")).to_have_text("Bitte wählen Sie einen Grund.")
    await expect(citizen.get_by_test_id("waiting-room")).to_be_visible()
    await clerk.get_by_test_id("deny-reason-too_early").check()
    await clerk.get_by_test_id("deny-confirm").click()
    await expect(clerk.locator("#deny-dialog")).to_be_hidden()
    await expect(waiting).not_to_contain_text("Erika Mustermann")

    # The citizen is told why and may come back; coming back, they wait again.
    await expect(citizen.locator("#stopped-heading")).to_have_text("Sie sind zu früh")
    await citizen.get_by_test_id("rejoin").click()
    await expect(citizen.get_by_test_id("waiting-room")).to_be_visible()
    await expect(waiting).to_contain_text("Erika Mustermann", timeout=15_000)
    assert page_errors.errors == []
