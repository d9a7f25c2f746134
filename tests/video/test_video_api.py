"""The pre-call API: the video room opens 15 minutes before, identity codes are single-use,
short-lived, attempt-limited and rate-limited, and a verified code yields the join credential."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from tests.booking_flow import confirmed_booking, get_json, identity_code_from_mail, offer
from tests.helpers import post_json
from tests.smtp import MailCatcher
from vibue.core.clock import ManualClock
from vibue.models import AuditEntry
from vibue.video import join_tokens
from vibue.web.appkeys import SESSIONS

START = "2026-11-30T08:00:00+01:00"  # the clock says 07:00; the room opens at 07:45
EMAIL = "erika@example.org"


async def video_booking(client: TestClient[Any, Any], catcher: MailCatcher) -> str:
    return await confirmed_booking(client, catcher, await offer(client), START)


async def ask_code(client: TestClient[Any, Any], token: str) -> Any:
    return await post_json(client, f"/api/video/{token}/code")


async def verify(client: TestClient[Any, Any], token: str, code: str) -> Any:
    return await post_json(client, f"/api/video/{token}/verify", {"code": code})


async def test_the_room_opens_fifteen_minutes_before(
    client: TestClient[Any, Any], mail_catcher: MailCatcher, clock: ManualClock
) -> None:
    token = await video_booking(client, mail_catcher)
    page = await get_json(client, f"/api/video/{token}")
    assert (page["open"], page["opens_at"], page["code_verified"]) == (False, "2026-11-30T07:45:00+01:00", False)
    assert page["server_time"] == "2026-11-30T07:00:00+01:00"  # the countdown runs by the server's clock
    assert "Personalausweis oder Reisepass" in page["checklist"]
    early = await ask_code(client, token)
    assert (early.status, (await early.json())["error"]["code"]) == (409, "video_not_open")
    clock.advance(minutes=45)
    assert (await get_json(client, f"/api/video/{token}"))["open"] is True


async def test_code_by_mail_then_join_credential(
    client: TestClient[Any, Any], mail_catcher: MailCatcher, clock: ManualClock
) -> None:
    token = await video_booking(client, mail_catcher)
    clock.advance(minutes=50)
    sent = await ask_code(client, token)
    assert sent.status == 202
    assert (await sent.json())["sent_to"] == "e***@example.org"
    code = await identity_code_from_mail(mail_catcher, EMAIL, count=3)

    wrong = await verify(client, token, "000000" if code != "000000" else "111111")
    body = await wrong.json()
    assert (wrong.status, body["error"]["code"]) == (422, "identity_code_wrong")
    assert body["error"]["message"] == "Der Code stimmt nicht. Sie haben noch 4 Versuche."

    right = await verify(client, token, code)
    assert right.status == 200, await right.text()
    joined = await right.json()
    claims = join_tokens.verify(_secret(client), joined["join_token"], clock.now())
    assert claims.role == "citizen"
    page = await get_json(client, f"/api/video/{token}")
    assert (page["code_verified"], page["status"]) == (True, "checked_in")

    replay = await verify(client, token, code)
    assert (await replay.json())["error"]["code"] == "identity_code_used"


def _secret(client: TestClient[Any, Any]) -> str:
    from vibue.web.appkeys import SETTINGS

    return str(client.app[SETTINGS].secret_key)


async def test_codes_expire_are_voided_by_a_new_one_and_after_five_misses(
    client: TestClient[Any, Any], mail_catcher: MailCatcher, clock: ManualClock
) -> None:
    token = await video_booking(client, mail_catcher)
    clock.advance(minutes=46)
    await ask_code(client, token)
    first = await identity_code_from_mail(mail_catcher, EMAIL, count=3)
    clock.advance(minutes=11)
    expired = await verify(client, token, first)
    assert (await expired.json())["error"]["code"] == "identity_code_expired"

    await ask_code(client, token)
    second = await identity_code_from_mail(mail_catcher, EMAIL, count=4)
    await ask_code(client, token)
    third = await identity_code_from_mail(mail_catcher, EMAIL, count=5)
    if second != third:
        stale = await verify(client, token, second)
        assert (await stale.json())["error"]["code"] in {"identity_code_wrong", "identity_code_voided"}

    for _ in range(5):
        miss = await verify(client, token, "999999" if third != "999999" else "888888")
    assert (await miss.json())["error"]["code"] == "identity_code_voided"
    late = await verify(client, token, third)
    assert (await late.json())["error"]["code"] == "identity_code_voided"


async def test_code_requests_are_rate_limited_per_appointment(
    client: TestClient[Any, Any], mail_catcher: MailCatcher, clock: ManualClock
) -> None:
    token = await video_booking(client, mail_catcher)
    clock.advance(minutes=46)
    statuses = [(await ask_code(client, token)).status for _ in range(4)]
    assert statuses == [202, 202, 202, 429]
    assert [action for action, _ in await code_audit(client)] == ["identity_code.sent"] * 3 + [
        "identity_code.rate_limited"
    ]


async def test_a_code_works_only_for_its_own_appointment(
    client: TestClient[Any, Any], mail_catcher: MailCatcher, clock: ManualClock
) -> None:
    token = await video_booking(client, mail_catcher)
    other = await confirmed_booking(
        client, mail_catcher, await offer(client), "2026-11-30T08:15:00+01:00", "max@example.org"
    )
    clock.advance(minutes=61)  # 08:01: the rooms of 08:00 and 08:15 are open
    await ask_code(client, token)
    code = await identity_code_from_mail(mail_catcher, EMAIL, count=3)
    assert (await (await verify(client, other, code)).json())["error"]["code"] == "identity_code_missing"
    await ask_code(client, other)
    others_code = await identity_code_from_mail(mail_catcher, "max@example.org", count=3)
    if others_code != code:  # one in a million: both appointments drew the same six digits
        assert (await (await verify(client, other, code)).json())["error"]["code"] == "identity_code_wrong"
    assert (await verify(client, token, code)).status == 200


async def test_refused_code_tries_are_audited_with_the_reason(
    client: TestClient[Any, Any], mail_catcher: MailCatcher, clock: ManualClock
) -> None:
    token = await video_booking(client, mail_catcher)
    clock.advance(minutes=46)
    await verify(client, token, "123456")  # no code asked for yet
    await ask_code(client, token)
    code = await identity_code_from_mail(mail_catcher, EMAIL, count=3)
    assert (await verify(client, token, code)).status == 200
    await verify(client, token, code)  # a replay
    await ask_code(client, token)
    late = await identity_code_from_mail(mail_catcher, EMAIL, count=4)
    clock.advance(minutes=11)
    await verify(client, token, late)
    assert await code_audit(client) == [
        ("identity_code.refused", {"reason": "identity_code_missing"}),
        ("identity_code.sent", {}),
        ("identity_code.verified", {}),
        ("identity_code.refused", {"reason": "identity_code_used"}),
        ("identity_code.sent", {}),
        ("identity_code.refused", {"reason": "identity_code_expired"}),
    ]


async def code_audit(client: TestClient[Any, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The audit trail of identity codes, oldest first: action and details (never the code)."""
    async with client.app[SESSIONS]() as session:
        entries = await session.scalars(
            select(AuditEntry).where(AuditEntry.action.startswith("identity_code.")).order_by(AuditEntry.id)
        )
        return [(entry.action, entry.details or {}) for entry in entries]


async def test_on_site_appointments_have_no_video_room(
    client: TestClient[Any, Any], mail_catcher: MailCatcher, clock: ManualClock
) -> None:
    on_site = await offer(client, unit="buergeramt-vor-ort", location="buergeramt-mitte")
    token = await confirmed_booking(client, mail_catcher, on_site, START)
    clock.advance(minutes=50)
    response = await ask_code(client, token)
    assert (await response.json())["error"]["code"] == "not_a_video_appointment"


@pytest.mark.parametrize("code", ["12345", "abcdef", "1234567", ""])
async def test_codes_are_six_digits(client: TestClient[Any, Any], mail_catcher: MailCatcher, code: str) -> None:
    token = await video_booking(client, mail_catcher)
    response = await verify(client, token, code)
    body = await response.json()
    assert (response.status, body["error"]["fields"]["code"]) == (422, "Der Code besteht aus 6 Ziffern.")


def test_join_tokens_refuse_tampering_and_expiry() -> None:
    now = datetime(2026, 11, 30, 7, tzinfo=UTC)
    claims = join_tokens.JoinClaims(7, 11, "citizen", now + timedelta(minutes=30))
    token = join_tokens.issue("secret", claims)
    assert join_tokens.verify("secret", token, now) == claims
    payload, signature = token.split(".")
    for forged in (f"{payload}.{signature[:-2]}AA", token + "x", "x.y", 42, None, "a" * 600):
        with pytest.raises(join_tokens.TokenError) as raised:
            join_tokens.verify("secret", forged, now)
        assert raised.value.code == "unauthorized"
    with pytest.raises(join_tokens.TokenError) as raised:
        join_tokens.verify("other secret", token, now)
    with pytest.raises(join_tokens.TokenError) as expired:
        join_tokens.verify("secret", token, now + timedelta(minutes=31))
    assert expired.value.code == "token_expired"
