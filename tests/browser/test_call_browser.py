"""The whole video appointment in two browsers with fake cameras: code, waiting room, admission,
both sides decode video (getStats framesDecoded rising), identity check, outcome, completed.
Also at phone width, and a reload mid-call that continues without a new admission."""

from __future__ import annotations

import asyncio
import re

import aiohttp
import pyotp
import pytest
from aiohttp import web
from playwright.async_api import Browser, Page, async_playwright, expect
from sqlalchemy import select

from signaling import SIGNALING
from tests.booking_flow import confirmed_booking, identity_code_from_mail, offer
from tests.browser.conftest import CHROMIUM_ARGS, DESKTOP, PHONE, PageErrors, assert_no_horizontal_scroll, new_page
from tests.browser.test_staff_browser import at_app_time, password_of, secret_of, sign_in
from tests.smtp import MailCatcher
from vibue.core.clock import ManualClock
from vibue.core.settings import Settings
from vibue.models import Appointment, CallParticipant
from vibue.web.appkeys import SESSIONS

START = "2026-11-30T08:00:00+01:00"  # booked at 07:00 by the test clock; the room opens at 07:45
EMAIL = "erika@example.org"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.replace(reconnect_grace_seconds=30.0)


async def book(base_url: str, catcher: MailCatcher) -> str:
    async with aiohttp.ClientSession(base_url=base_url, cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        return await confirmed_booking(session, catcher, await offer(session), START, EMAIL)


async def frames_decoded(page: Page) -> int:
    value = await page.get_by_test_id("remote-video").get_attribute("data-frames-decoded")
    return int(value or 0)


async def decodes_video(page: Page) -> None:
    """framesDecoded (from getStats, as the page reports it) is above zero and still rising."""
    await expect(page.get_by_test_id("remote-video")).not_to_have_attribute("data-frames-decoded", "0", timeout=20_000)
    before = await frames_decoded(page)
    for _ in range(60):  # the page reads getStats every 2 s
        await page.wait_for_timeout(250)
        if await frames_decoded(page) > before:
            return
    raise AssertionError(f"framesDecoded stuck at {before} on {page.url}")


async def citizen_reaches_waiting_room(page: Page, base_url: str, token: str, catcher: MailCatcher) -> None:
    await page.goto(f"{base_url}/video/{token}")
    await expect(page.get_by_test_id("precall-preview")).to_be_visible()
    await page.get_by_test_id("request-code").click()
    await expect(page.get_by_test_id("code-status")).to_contain_text("e***@example.org")
    code = await identity_code_from_mail(catcher, EMAIL, count=3)
    await page.get_by_test_id("code-input").fill(code)
    await page.get_by_test_id("verify-code").click()
    await expect(page.get_by_test_id("waiting-room")).to_be_visible()


async def clerk_admits(page: Page, base_url: str, app: web.Application, clock: ManualClock) -> None:
    code = pyotp.TOTP(await secret_of(app, "s.berger")).at(clock.now())
    await sign_in(page, base_url, "s.berger", password_of("s.berger"), code)
    await expect(page).to_have_url(re.compile(r"/sachbearbeitung$"))
    waiting = page.get_by_test_id("waiting-list")
    await expect(waiting).to_contain_text("Erika Mustermann", timeout=15_000)
    await page.locator("[data-testid^='admit-']").first.click()
    await expect(page.get_by_test_id("call-view")).to_be_visible()


async def start_call(
    browser: Browser,
    base_url: str,
    app: web.Application,
    clock: ManualClock,
    catcher: MailCatcher,
    errors: PageErrors,
    *,
    citizen_viewport: dict[str, int] = DESKTOP,
    init_script: str = "",
) -> tuple[Page, Page, str]:
    """Book, open the room, code, waiting room, admission: both sides decoding video."""
    token = await book(base_url, catcher)
    clock.advance(minutes=50)  # 07:50: the room is open
    citizen = await new_page(browser, errors, viewport=citizen_viewport)
    clerk = await new_page(browser, errors)
    for page in (citizen, clerk):
        await at_app_time(page, clock)
        if init_script:
            await page.add_init_script(init_script)
    await citizen_reaches_waiting_room(citizen, base_url, token, catcher)
    await clerk_admits(clerk, base_url, app, clock)
    await expect(citizen.get_by_test_id("call-view")).to_be_visible()
    await decodes_video(citizen)
    await decodes_video(clerk)
    return citizen, clerk, token


async def run_call(
    browser: Browser,
    base_url: str,
    app: web.Application,
    clock: ManualClock,
    catcher: MailCatcher,
    errors: PageErrors,
    *,
    citizen_viewport: dict[str, int],
    reload_mid_call: bool = False,
) -> None:
    citizen, clerk, token = await start_call(
        browser, base_url, app, clock, catcher, errors, citizen_viewport=citizen_viewport
    )
    if citizen_viewport is PHONE:
        await assert_no_horizontal_scroll(citizen)

    if reload_mid_call:
        await citizen.reload()
        # Straight back into the call: no code, no waiting room, no new admission.
        await expect(citizen.get_by_test_id("call-view")).to_be_visible(timeout=20_000)
        await expect(citizen.get_by_test_id("waiting-room")).to_be_hidden()
        await decodes_video(citizen)
        await decodes_video(clerk)

    await clerk.get_by_test_id("identity-document").select_option("personalausweis")
    await clerk.get_by_test_id("identity-confirm").click()
    # As a clerk would: see the check recorded before ending, else the console asks about it first.
    await expect(clerk.get_by_test_id("identity-status")).to_have_attribute("data-checked", "true")
    await clerk.get_by_test_id("outcome-completed").check()
    await clerk.get_by_test_id("end-call").click()
    await expect(citizen.get_by_test_id("call-ended")).to_be_visible()
    async with aiohttp.ClientSession(base_url=base_url) as session, session.get(f"/api/bookings/{token}") as answer:
        assert (await answer.json())["status"] == "completed"
    await expect(clerk.get_by_test_id("day-table")).to_contain_text("abgeschlossen", timeout=15_000)
    assert errors.errors == []


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_video_appointment_end_to_end(
    browser: Browser,
    base_url: str,
    app: web.Application,
    clock: ManualClock,
    mail_catcher: MailCatcher,
    page_errors: PageErrors,
    viewport: dict[str, int],
) -> None:
    await run_call(browser, base_url, app, clock, mail_catcher, page_errors, citizen_viewport=viewport)


async def test_reload_mid_call_resumes_without_new_admission(
    browser: Browser,
    base_url: str,
    app: web.Application,
    clock: ManualClock,
    mail_catcher: MailCatcher,
    page_errors: PageErrors,
) -> None:
    await run_call(
        browser, base_url, app, clock, mail_catcher, page_errors, citizen_viewport=DESKTOP, reload_mid_call=True
    )


async def test_pre_call_connection_test_on_the_page_reaches_the_clerks_waiting_list(
    browser: Browser,
    base_url: str,
    app: web.Application,
    clock: ManualClock,
    mail_catcher: MailCatcher,
    page_errors: PageErrors,
) -> None:
    token = await book(base_url, mail_catcher)
    clock.advance(minutes=50)
    citizen = await new_page(browser, page_errors)
    await at_app_time(citizen, clock)
    await citizen.goto(f"{base_url}/video/{token}")
    await citizen.get_by_test_id("conntest-start").click()
    verdict = citizen.get_by_test_id("conntest-verdict")
    await expect(verdict).to_be_visible(timeout=40_000)
    assert await verdict.get_attribute("data-verdict") in {"good", "limited"}
    await citizen.get_by_test_id("request-code").click()
    code = await identity_code_from_mail(mail_catcher, EMAIL, count=3)
    await citizen.get_by_test_id("code-input").fill(code)
    await citizen.get_by_test_id("verify-code").click()
    await expect(citizen.get_by_test_id("waiting-room")).to_be_visible()

    clerk = await new_page(browser, page_errors)
    await at_app_time(clerk, clock)
    await sign_in(
        clerk,
        base_url,
        "s.berger",
        password_of("s.berger"),
        pyotp.TOTP(await secret_of(app, "s.berger")).at(clock.now()),
    )
    waiting = clerk.get_by_test_id("waiting-list")
    await expect(waiting).to_contain_text("Erika Mustermann", timeout=15_000)
    await expect(waiting).not_to_contain_text("—")  # the test result is shown, not the placeholder
    assert page_errors.errors == []


LOCAL_TRACK = "document.querySelector('[data-testid=local-video]').srcObject.get{kind}Tracks()[0]"


async def test_controls_and_the_camera_coming_back_after_the_background(
    browser: Browser,
    base_url: str,
    app: web.Application,
    clock: ManualClock,
    mail_catcher: MailCatcher,
    page_errors: PageErrors,
) -> None:
    citizen, clerk, _ = await start_call(browser, base_url, app, clock, mail_catcher, page_errors)
    audio, video = LOCAL_TRACK.format(kind="Audio"), LOCAL_TRACK.format(kind="Video")

    await citizen.get_by_test_id("mute").click()
    await expect(citizen.get_by_test_id("mute")).to_have_attribute("data-state", "off")
    assert await citizen.evaluate(f"{audio}.enabled") is False
    await citizen.get_by_test_id("mute").click()
    assert await citizen.evaluate(f"{audio}.enabled") is True

    await citizen.get_by_test_id("camera").click()
    await expect(citizen.get_by_test_id("camera")).to_have_attribute("data-state", "off")
    assert await citizen.evaluate(f"{video}.enabled") is False
    await citizen.get_by_test_id("camera").click()
    assert await citizen.evaluate(f"{video}.enabled") is True

    # One fake camera: the switch button only appears with two cameras.
    await expect(citizen.get_by_test_id("switch-camera")).to_be_hidden()
    await expect(citizen.get_by_test_id("quality")).not_to_have_attribute("data-quality", "unknown", timeout=10_000)

    # A phone takes the camera away in the background; back in front, the page gets it again.
    old_id = await citizen.evaluate(f"(() => {{ const t = {video}; t.stop(); return t.id; }})()")
    await citizen.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    fresh = f"(() => {{ const t = {video}; return Boolean(t) && t.readyState === 'live' && t.id !== {old_id!r}; }})()"
    for _ in range(100):  # wait_for_function would eval a string, which our CSP forbids
        if await citizen.evaluate(fresh):
            break
        await citizen.wait_for_timeout(100)
    else:
        raise AssertionError("the camera was not acquired again")
    await decodes_video(clerk)  # the clerk sees the citizen's camera again
    assert page_errors.errors == []


# Chromium lets a page that captures camera and microphone play sound at once, so it never refuses
# play(). iOS Safari (and Chromium pages without capture) refuse play() with sound outside a user
# gesture; this init script imposes that rule: play() of unmuted media is refused unless it is called
# while a click is being dispatched. It also counts getUserMedia calls.
USER_GESTURE_AUDIO = """
(() => {
  const play = HTMLMediaElement.prototype.play;
  let inGesture = false;
  window.__refusedPlays = 0;
  document.addEventListener('click', () => { inGesture = true; setTimeout(() => { inGesture = false; }); }, true);
  const getUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  window.__captures = 0;
  navigator.mediaDevices.getUserMedia = (constraints) => { window.__captures += 1; return getUserMedia(constraints); };
  HTMLMediaElement.prototype.play = function () {
    if (!this.muted && !inGesture) {
      window.__refusedPlays += 1;
      return Promise.reject(new DOMException('play() with sound needs a user gesture', 'NotAllowedError'));
    }
    return play.call(this);
  };
})();
"""
REMOTE_VIDEO = "document.querySelector('[data-testid=remote-video]')"


async def test_sound_starts_from_a_tap_where_the_browser_refuses_autoplay(
    browser: Browser,
    base_url: str,
    app: web.Application,
    clock: ManualClock,
    mail_catcher: MailCatcher,
    page_errors: PageErrors,
) -> None:
    citizen, clerk, _ = await start_call(
        browser, base_url, app, clock, mail_catcher, page_errors, citizen_viewport=PHONE, init_script=USER_GESTURE_AUDIO
    )
    # Phones: one camera and microphone stream from the pre-call check on (a second
    # getUserMedia would ask again or fail while the camera is held), videos inline.
    assert await citizen.evaluate("window.__captures") == 1
    assert await citizen.evaluate("[...document.querySelectorAll('video')].every((v) => v.playsInline)"), (
        "a video without playsinline goes full screen on iOS"
    )
    for page in (citizen, clerk):
        # The picture plays muted at once (both decode, see start_call); sound waits for a tap.
        assert await page.evaluate("window.__refusedPlays") >= 1
        assert await page.evaluate(f"{REMOTE_VIDEO}.muted && !{REMOTE_VIDEO}.paused") is True
        enable = page.get_by_test_id("enable-audio")
        await expect(enable).to_be_visible()
        await expect(enable).to_have_text("Ton einschalten")
        await enable.click()
        await expect(enable).to_be_hidden()
        assert await page.evaluate(f"!{REMOTE_VIDEO}.muted && !{REMOTE_VIDEO}.paused") is True
        await expect(page.get_by_test_id("mute")).to_be_focused()  # focus is not lost with the button
    await decodes_video(citizen)
    assert page_errors.errors == []


# Test-only instrumentation, injected before the page's scripts: remember every peer connection.
KEEP_PEERS = """
(() => {
  const Original = window.RTCPeerConnection;
  window.__peers = [];
  window.__glare = 0;  // remote offers applied while this side had its own offer out
  window.RTCPeerConnection = class extends Original {
    constructor(...args) { super(...args); window.__peers.push(this); }
    setRemoteDescription(description) {
      if (description && description.type === 'offer' && this.signalingState === 'have-local-offer') {
        window.__glare += 1;
      }
      return super.setRemoteDescription(description);
    }
  };
})();
"""
LIVE_PEER = "window.__peers.filter((pc) => pc.connectionState !== 'closed').at(-1)"


async def test_glare_never_breaks_the_call(
    browser: Browser,
    base_url: str,
    app: web.Application,
    clock: ManualClock,
    mail_catcher: MailCatcher,
    page_errors: PageErrors,
) -> None:
    citizen, clerk, _ = await start_call(
        browser, base_url, app, clock, mail_catcher, page_errors, init_script=KEEP_PEERS
    )
    for _ in range(3):
        # Both sides renegotiate at the same moment: two offers cross (glare); the polite citizen
        # rolls back, the impolite clerk's offer wins, and the call goes on.
        await asyncio.gather(citizen.evaluate(f"{LIVE_PEER}.restartIce()"), clerk.evaluate(f"{LIVE_PEER}.restartIce()"))
        await citizen.wait_for_timeout(1500)
    assert await citizen.evaluate("window.__glare") >= 1, "the offers never crossed: no glare was tested"
    for page in (citizen, clerk):
        for _ in range(100):
            if await page.evaluate(f"{LIVE_PEER}.connectionState") == "connected":
                break
            await page.wait_for_timeout(100)
        else:
            raise AssertionError(f"not connected after glare on {page.url}")
        await decodes_video(page)
    assert page_errors.errors == []


# Chromium's fake capture poses as a device with several cameras, but its second one,
# fake_device_1, sends depth frames (Y16) that no video encoder takes: the picture would freeze
# at the other end. This init script leaves it out, so the phone has two ordinary cameras.
NO_DEPTH_CAMERA = """
(() => {
  const enumerate = navigator.mediaDevices.enumerateDevices.bind(navigator.mediaDevices);
  navigator.mediaDevices.enumerateDevices = async () =>
    (await enumerate()).filter((device) => device.label !== 'fake_device_1');
})();
"""
CAMERA = "document.querySelector('[data-testid=local-video]').srcObject.getVideoTracks()[0]"


async def test_a_phone_with_two_cameras_switches_between_them(
    chromium: str,
    base_url: str,
    app: web.Application,
    clock: ManualClock,
    mail_catcher: MailCatcher,
    page_errors: PageErrors,
) -> None:
    args = [a for a in CHROMIUM_ARGS if not a.startswith("--use-fake-device")]
    async with async_playwright() as playwright:
        phone = await playwright.chromium.launch(
            executable_path=chromium, args=[*args, "--use-fake-device-for-media-stream=device-count=3,fps=10"]
        )
        try:
            citizen, clerk, _ = await start_call(
                phone,
                base_url,
                app,
                clock,
                mail_catcher,
                page_errors,
                citizen_viewport=PHONE,
                init_script=NO_DEPTH_CAMERA,
            )
            switch = citizen.get_by_test_id("switch-camera")
            await expect(switch).to_be_visible()
            for expected in ("fake_device_2", "fake_device_0"):  # to the other camera and back again
                await switch.click()
                for _ in range(100):
                    if await citizen.evaluate(f"{CAMERA}.label") == expected:
                        break
                    await citizen.wait_for_timeout(100)
                else:
                    raise AssertionError(
                        f"the camera did not change to {expected}: {await citizen.evaluate(f'{CAMERA}.label')}"
                    )
                # Twice: the first rise may still count frames of the camera before the switch.
                await decodes_video(clerk)
                await decodes_video(clerk)  # the clerk sees the other camera
            assert page_errors.errors == []
        finally:
            await phone.close()


async def test_the_clerks_waiting_list_follows_the_pushed_changes(
    browser: Browser,
    base_url: str,
    app: web.Application,
    clock: ManualClock,
    mail_catcher: MailCatcher,
    page_errors: PageErrors,
) -> None:
    """lobby.updated carries what changed ({changed, removed}); the console merges it in."""
    await book(base_url, mail_catcher)
    clerk = await new_page(browser, page_errors)
    await at_app_time(clerk, clock)
    code = pyotp.TOTP(await secret_of(app, "s.berger")).at(clock.now())
    await sign_in(clerk, base_url, "s.berger", password_of("s.berger"), code)
    waiting = clerk.get_by_test_id("waiting-list")
    await expect(waiting).to_contain_text("Zurzeit wartet niemand.")

    async def citizen(state: str) -> None:
        async with app[SESSIONS].begin() as session:
            appointment = await session.scalar(select(Appointment.id).where(Appointment.citizen_email == EMAIL))
            assert appointment is not None
            row = await session.scalar(select(CallParticipant).where(CallParticipant.appointment_id == appointment))
            if row is None:  # as the citizen's connect leaves it
                row = CallParticipant(appointment_id=appointment, role="citizen", waiting_since=clock.now())
                session.add(row)
            row.state = state
        await app[SIGNALING].lobby.changed()

    await citizen("waiting")
    await expect(waiting).to_contain_text("Erika Mustermann")
    await citizen("left")
    await expect(waiting).to_contain_text("Zurzeit wartet niemand.")
    assert page_errors.errors == []
