"""Staff sign-in: password + one-time code, replay protection, lockout, enrolment, CSRF, rate limit."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import pyotp
from aiohttp import DummyCookieJar
from sqlalchemy import select

from tests.helpers import DEFAULT_PASSWORD, STAFF_COOKIE, add_staff, cookie, csrf_headers, post_json, sign_in, sign_out
from vibue.core.db import unit_of_work
from vibue.core.errors import DomainError
from vibue.core.i18n import translate
from vibue.core.strikes import Strikes
from vibue.models import AuditEntry, Staff
from vibue.seed import DEMO_STAFF
from vibue.staff import passwords, totp
from vibue.staff import service as staff_auth
from vibue.staff.lockout import Lockouts
from vibue.web.appkeys import SESSIONS

PASSWORD = DEFAULT_PASSWORD
INVALID_DE = "Benutzername, Passwort oder Code sind falsch."
LOCKED_DE = "Das Konto ist nach zu vielen Fehlversuchen für 15 Minuten gesperrt. Bitte versuchen Sie es später erneut."


async def login(client: Any, username: str, password: str, code: str, **kwargs: Any) -> tuple[int, Any]:
    response = await post_json(
        client, "/api/staff/login", {"username": username, "password": password, "code": code}, **kwargs
    )
    return response.status, await response.json()


async def audit_entries(client: Any) -> list[AuditEntry]:
    async with client.app[SESSIONS]() as session:
        return list(await session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


async def staff_row(client: Any, username: str) -> Staff:
    async with client.app[SESSIONS]() as session:
        staff: Staff | None = await session.scalar(select(Staff).where(Staff.username == username))
    assert staff is not None
    return staff


def assert_invalid(status: int, data: Any) -> None:
    assert status == 401, data
    assert data["error"]["code"] == "invalid_credentials"
    assert data["error"]["message"] == INVALID_DE == translate("de", "error.invalid_credentials")


async def test_sign_in_sets_strict_http_only_cookie(client, clock):
    staff_id, secret = await add_staff(client.app[SESSIONS], "clerk1", display_name="Clara Clerk")
    response = await post_json(
        client,
        "/api/staff/login",
        {"username": "clerk1", "password": PASSWORD, "code": totp.code_at(secret, clock.now())},
    )
    assert response.status == 200
    assert await response.json() == {
        "staff": {"id": staff_id, "username": "clerk1", "display_name": "Clara Clerk", "role": "clerk"},
        "enrolment": None,
    }
    header = next(h for h in response.headers.getall("Set-Cookie") if h.startswith(f"{STAFF_COOKIE}="))
    attributes = {part.strip().split("=")[0].lower() for part in header.split(";")}
    assert "httponly" in attributes
    assert re.search(r"SameSite=Strict", header, re.IGNORECASE)
    assert "Path=/" in header
    assert "Max-Age=36000" in header  # staff_session_hours = 10
    assert "secure" not in attributes  # plain http test server; production forces Secure

    me = await client.get("/api/staff/me")
    assert me.status == 200
    assert (await me.json())["staff"]["username"] == "clerk1"

    entries = await audit_entries(client)
    signed_in = [e for e in entries if e.action == "staff.signed_in"]
    assert [(e.actor, e.subject) for e in signed_in] == [(f"staff:{staff_id}", f"staff:{staff_id}")]


async def test_user_name_is_case_insensitive_and_code_may_contain_a_space(client, clock):
    _, secret = await add_staff(client.app[SESSIONS], "clerk1")
    code = totp.code_at(secret, clock.now())
    status, data = await login(client, "  CLERK1 ", PASSWORD, f"{code[:3]} {code[3:]}")
    assert status == 200, data


async def test_wrong_password_code_or_user_give_one_message(client, clock):
    _, secret = await add_staff(client.app[SESSIONS], "clerk1")
    code = totp.code_at(secret, clock.now())
    assert_invalid(*await login(client, "clerk1", "wrong password", code))
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert_invalid(*await login(client, "clerk1", PASSWORD, wrong))
    assert_invalid(*await login(client, "clerk1", PASSWORD, ""))
    assert_invalid(*await login(client, "nobody", PASSWORD, code))

    status, data = await login(client, "clerk1", "wrong", code, headers={"Accept-Language": "en"})
    assert status == 401
    assert data["error"]["message"] == translate("en", "error.invalid_credentials")
    assert data["error"]["message"] != INVALID_DE

    entries = await audit_entries(client)
    failures = [e for e in entries if e.action == "staff.sign_in_failed"]
    assert [e.details["reason"] for e in failures] == [
        "wrong_password",
        "wrong_code",
        "wrong_code",
        "unknown_user",
        "wrong_password",
    ]
    unknown = failures[3]
    assert unknown.actor == "anonymous"
    assert unknown.subject == ""
    # Neither the password, nor the code, nor the unknown name is ever written down.
    everything = json.dumps([(e.actor, e.subject, e.details) for e in entries])
    for secret_text in (PASSWORD, "wrong password", code, wrong, "nobody"):
        assert secret_text not in everything


async def test_malformed_code_is_a_field_error(client):
    status, data = await login(client, "clerk1", PASSWORD, "12ab56")
    assert status == 422
    assert data["error"]["fields"] == {"code": "Der Code besteht aus 6 Ziffern."}


async def test_replayed_code_is_refused(client, clock):
    _, secret = await add_staff(client.app[SESSIONS], "clerk1")
    code = totp.code_at(secret, clock.now())
    status, _ = await login(client, "clerk1", PASSWORD, code)
    assert status == 200
    await sign_out(client)
    assert_invalid(*await login(client, "clerk1", PASSWORD, code))
    # An older code (previous step, still inside the window) is refused too.
    assert_invalid(*await login(client, "clerk1", PASSWORD, totp.code_at(secret, clock.now(), offset=-1)))
    entries = await audit_entries(client)
    assert [e.details["reason"] for e in entries if e.action == "staff.sign_in_failed"] == [
        "replayed_code",
        "replayed_code",
    ]
    clock.advance(seconds=30)
    status, _ = await login(client, "clerk1", PASSWORD, totp.code_at(secret, clock.now()))
    assert status == 200


async def test_codes_of_neighbouring_steps_are_accepted(client, clock):
    _, secret = await add_staff(client.app[SESSIONS], "clerk1")
    status, _ = await login(client, "clerk1", PASSWORD, totp.code_at(secret, clock.now(), offset=-1))
    assert status == 200
    status, _ = await login(client, "clerk1", PASSWORD, totp.code_at(secret, clock.now(), offset=1))
    assert status == 200
    assert (await staff_row(client, "clerk1")).totp_last_step == totp.step_at(clock.now()) + 1
    assert_invalid(*await login(client, "clerk1", PASSWORD, totp.code_at(secret, clock.now(), offset=2)))


async def test_five_failures_lock_for_fifteen_minutes(client, clock):
    _, secret = await add_staff(client.app[SESSIONS], "clerk1")
    for attempt in range(5):
        clock.advance(seconds=1)
        if attempt % 2:
            assert_invalid(*await login(client, "clerk1", "wrong password", ""))
        else:
            assert_invalid(*await login(client, "clerk1", PASSWORD, "000000"))
    row = await staff_row(client, "clerk1")
    # This source is locked out; the account is not (see the tests of sources below).
    assert (row.locked_until, row.failed_attempts) == (None, 5)

    status, data = await login(client, "clerk1", PASSWORD, totp.code_at(secret, clock.now()))
    assert status == 423
    assert data["error"] == {"code": "account_locked", "message": LOCKED_DE, "fields": {}}

    clock.advance(minutes=14, seconds=58)
    status, _ = await login(client, "clerk1", PASSWORD, totp.code_at(secret, clock.now()))
    assert status == 423
    clock.advance(seconds=3)
    status, data = await login(client, "clerk1", PASSWORD, totp.code_at(secret, clock.now()))
    assert status == 200, data

    entries = await audit_entries(client)
    actions = [e.action for e in entries if e.action.startswith("staff.")]
    assert actions.count("staff.sign_in_failed") == 5
    assert actions.count("staff.locked") == 1
    assert actions.count("staff.sign_in_refused") == 2
    assert actions[-1] == "staff.signed_in"


async def test_success_resets_the_failure_counter(client, clock):
    _, secret = await add_staff(client.app[SESSIONS], "clerk1")
    for _ in range(4):
        assert_invalid(*await login(client, "clerk1", "wrong password", ""))
    status, _ = await login(client, "clerk1", PASSWORD, totp.code_at(secret, clock.now()))
    assert status == 200
    assert (await staff_row(client, "clerk1")).failed_attempts == 0
    for _ in range(4):
        assert_invalid(*await login(client, "clerk1", "wrong password", ""))
    clock.advance(seconds=30)
    status, _ = await login(client, "clerk1", PASSWORD, totp.code_at(secret, clock.now()))
    assert status == 200


async def test_inactive_staff_cannot_sign_in(client, clock):
    staff_id, secret = await add_staff(client.app[SESSIONS], "clerk1")
    async with client.app[SESSIONS].begin() as session:
        row = await session.get(Staff, staff_id)
        assert row is not None
        row.active = False
    assert_invalid(*await login(client, "clerk1", PASSWORD, totp.code_at(secret, clock.now())))


async def test_unknown_names_lock_like_real_accounts(client, clock):
    """Five failures lock any name for 15 minutes, so 423 does not reveal that an account exists."""
    staff_id, _ = await add_staff(client.app[SESSIONS], "gone")
    async with client.app[SESSIONS].begin() as session:
        row = await session.get(Staff, staff_id)
        assert row is not None
        row.active = False
    for name in ("nobody", "gone"):
        for spelling in (name, name.upper(), f" {name} ", name.title(), name):
            clock.advance(seconds=1)
            assert_invalid(*await login(client, spelling, PASSWORD, ""))
        status, data = await login(client, name, PASSWORD, "")
        assert status == 423, name
        assert data["error"] == {"code": "account_locked", "message": LOCKED_DE, "fields": {}}
    assert_invalid(*await login(client, "somebody-else", PASSWORD, ""))  # counted per name

    clock.advance(minutes=14, seconds=58)  # "gone" was locked last, "nobody" five seconds before
    assert (await login(client, "GONE", PASSWORD, ""))[0] == 423
    clock.advance(seconds=3)
    assert_invalid(*await login(client, "gone", PASSWORD, ""))

    entries = await audit_entries(client)
    locks = [e for e in entries if e.action == "staff.locked"]
    assert [(e.subject, e.details["reason"]) for e in locks] == [("", "unknown_user"), ("", "inactive")]
    refused = [e for e in entries if e.action == "staff.sign_in_refused"]
    assert [(e.actor, e.subject) for e in refused] == [("anonymous", "")] * 3
    everything = json.dumps([(e.actor, e.subject, e.details) for e in entries])
    assert "nobody" not in everything.lower()
    assert "somebody" not in everything


async def test_locked_refusals_still_verify_the_password(client, clock, settings):
    """The locked paths do the same argon2 work as the others: the verifier runs before deciding."""
    staff_id, _ = await add_staff(client.app[SESSIONS], "clerk1")
    async with client.app[SESSIONS].begin() as session:
        row = await session.get(Staff, staff_id)
        assert row is not None
        row.locked_until = clock.now() + timedelta(minutes=10)
    calls: list[str] = []

    async def counting_verify(password_hash: str, password: str) -> bool:
        calls.append("dummy" if password_hash == passwords.DUMMY_HASH else "account")
        return await passwords.verify_password(password_hash, password)

    lockouts = Lockouts(settings.secret_key, Strikes())
    for _ in range(5):
        await lockouts.fail(lockouts.unknown("nobody"), "source", clock.now(), whole=True)

    async def attempt(username: str) -> int | None:
        try:
            async with unit_of_work(client.app[SESSIONS]) as session:
                await staff_auth.sign_in(
                    session=session,
                    username=username,
                    password=PASSWORD,
                    code="",
                    now=clock.now(),
                    secret_key=settings.secret_key,
                    city_name=settings.city_name,
                    lockouts=lockouts,
                    source="source",
                    verify=counting_verify,
                )
        except DomainError as refused:
            return refused.status
        return None

    assert await attempt("clerk1") == 423
    assert await attempt("nobody") == 423
    assert calls == ["account", "dummy"]


async def test_lockout_memory_is_bounded_and_expires(clock):
    strikes = Strikes(max_entries=6)
    names = Lockouts("k" * 40, strikes)
    for index in range(10):
        await names.fail(names.unknown(f"name-{index}"), "source", clock.now(), whole=True)
    assert len(strikes) == 6  # a pair and a whole-name entry each
    for _ in range(5):
        await names.fail(names.unknown("name-9"), "source", clock.now(), whole=True)
    assert await names.is_locked(names.unknown("NAME-9"), "source", clock.now(), whole=True)
    assert len(strikes) == 6
    clock.advance(minutes=15)
    assert not await names.is_locked(names.unknown("name-9"), "source", clock.now(), whole=True)
    await names.fail(names.unknown("fresh-1"), "source", clock.now(), whole=True)
    await names.fail(names.unknown("fresh-2"), "source", clock.now(), whole=True)
    assert len(strikes) == 4  # the expired entries made room, the fresh ones stayed


async def test_enrolment_end_to_end(client, clock, settings):
    await add_staff(client.app[SESSIONS], "newbie", enrolled=False, secret="A" * 32)
    status, data = await login(client, "newbie", PASSWORD, "")
    assert status == 200, data
    assert data["staff"] is None
    enrolment = data["enrolment"]
    secret = enrolment["secret"]
    assert secret != "A" * 32
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    uri = urlparse(enrolment["otpauth_uri"])
    assert uri.scheme == "otpauth"
    assert uri.netloc == "totp"
    assert parse_qs(uri.query)["secret"] == [secret]
    assert parse_qs(uri.query)["issuer"] == ["ViBü Heidelberg"]
    parsed = pyotp.parse_uri(enrolment["otpauth_uri"])
    assert parsed.secret == secret
    assert parsed.issuer == "ViBü Heidelberg"
    assert parsed.name == "newbie"
    svg = enrolment["qr_svg"]
    assert svg.startswith("<svg")
    assert svg.rstrip().endswith("</svg>")
    assert "<title>ViBü Heidelberg</title>" in svg
    assert re.search(r'<path [^>]*d="M', svg)
    row = await staff_row(client, "newbie")
    assert row.totp_secret == secret
    assert not row.totp_enrolled

    # Not enrolled yet: no session.
    assert cookie(client, STAFF_COOKIE) is None
    assert (await client.get("/api/staff/me")).status == 401

    wrong = f"{(int(totp.code_at(secret, clock.now())) + 7) % 1_000_000:06d}"
    response = await post_json(client, "/api/staff/enrol", {"token": enrolment["token"], "code": wrong})
    assert response.status == 401
    assert (await response.json())["error"]["code"] == "code_invalid"

    code = totp.code_at(secret, clock.now())
    response = await post_json(client, "/api/staff/enrol", {"token": enrolment["token"], "code": code})
    assert response.status == 200, await response.text()
    assert (await response.json())["staff"]["username"] == "newbie"
    me = await client.get("/api/staff/me")
    assert (await me.json())["staff"]["username"] == "newbie"
    assert (await staff_row(client, "newbie")).totp_enrolled

    # The token is spent once enrolled.
    clock.advance(seconds=30)
    code = totp.code_at(secret, clock.now())
    response = await post_json(client, "/api/staff/enrol", {"token": enrolment["token"], "code": code})
    assert response.status == 401
    assert (await response.json())["error"]["code"] == "enrolment_invalid"
    # From now on the normal sign-in asks for the code.
    assert_invalid(*await login(client, "newbie", PASSWORD, ""))
    status, data = await login(client, "newbie", PASSWORD, code)
    assert status == 200
    assert data["staff"]["username"] == "newbie"

    actions = [e.action for e in await audit_entries(client)]
    assert actions.index("staff.enrolment_started") < actions.index("staff.enrolled")


async def test_enrolment_token_expires_and_is_bound_to_the_secret(client, clock):
    await add_staff(client.app[SESSIONS], "newbie", enrolled=False)
    _, first = await login(client, "newbie", PASSWORD, "")
    _, second = await login(client, "newbie", PASSWORD, "")
    # A second start gives a new secret; the first token no longer matches it.
    code = totp.code_at(second["enrolment"]["secret"], clock.now())
    response = await post_json(client, "/api/staff/enrol", {"token": first["enrolment"]["token"], "code": code})
    assert (await response.json())["error"]["code"] == "enrolment_invalid"
    tampered = second["enrolment"]["token"].replace(".", ".9", 1)
    response = await post_json(client, "/api/staff/enrol", {"token": tampered, "code": code})
    assert (await response.json())["error"]["code"] == "enrolment_invalid"

    clock.advance(minutes=10, seconds=1)
    code = totp.code_at(second["enrolment"]["secret"], clock.now())
    response = await post_json(client, "/api/staff/enrol", {"token": second["enrolment"]["token"], "code": code})
    assert response.status == 401
    data = await response.json()
    assert data["error"] == {
        "code": "enrolment_invalid",
        "message": translate("de", "error.enrolment_invalid"),
        "fields": {},
    }


async def test_login_without_csrf_header_is_refused(client, clock):
    _, secret = await add_staff(client.app[SESSIONS], "clerk1")
    await csrf_headers(client)  # the cookie is there, the header is not
    response = await client.post(
        "/api/staff/login",
        json={"username": "clerk1", "password": PASSWORD, "code": totp.code_at(secret, clock.now())},
    )
    assert response.status == 403
    assert (await response.json())["error"]["code"] == "csrf_failed"
    response = await client.post(
        "/api/staff/login",
        json={"username": "clerk1", "password": PASSWORD, "code": totp.code_at(secret, clock.now())},
        headers={"X-CSRF-Token": "not-the-cookie"},
    )
    assert response.status == 403
    assert cookie(client, STAFF_COOKIE) is None


async def test_sign_out_closes_the_session(client, clock):
    _, secret = await add_staff(client.app[SESSIONS], "clerk1")
    await sign_in(client, None, "clerk1", PASSWORD, secret)
    token = cookie(client, STAFF_COOKIE)
    assert token
    response = await post_json(client, "/api/staff/logout")
    assert response.status == 204
    assert cookie(client, STAFF_COOKIE) in (None, "")
    # The old token is dead even if a browser kept it.
    response = await client.get("/api/staff/me", cookies={STAFF_COOKIE: token})
    assert response.status == 401
    assert (await response.json())["error"]["code"] == "not_signed_in"
    response = await post_json(client, "/api/staff/logout")
    assert response.status == 401
    assert "staff.signed_out" in [e.action for e in await audit_entries(client)]


async def test_sessions_expire(client, clock):
    _, secret = await add_staff(client.app[SESSIONS], "clerk1")
    await sign_in(client, None, "clerk1", PASSWORD, secret)
    clock.advance(hours=9, minutes=59)
    assert (await client.get("/api/staff/me")).status == 200
    clock.advance(minutes=2)
    assert (await client.get("/api/staff/me")).status == 401


async def test_sign_in_helper_signs_in_twice_without_waiting(client):
    await add_staff(client.app[SESSIONS], "clerk1")
    await sign_in(client, None, "clerk1", PASSWORD)
    await sign_out(client)
    staff = await sign_in(client, None, "clerk1", PASSWORD)
    assert staff["username"] == "clerk1"


async def test_login_attempts_are_rate_limited(aiohttp_client, settings, clock):
    from vibue.app import create_app

    client = await aiohttp_client(create_app(settings.replace(rate_limit_logins=3, seed_demo=False), clock=clock))
    for _ in range(3):
        assert_invalid(*await login(client, "nobody", "x", ""))
    response = await post_json(client, "/api/staff/login", {"username": "nobody", "password": "x", "code": ""})
    assert response.status == 429
    assert int(response.headers["Retry-After"]) > 0
    assert (await response.json())["error"]["code"] == "rate_limited"


async def test_enrolment_token_round_trip_unit(clock):
    staff = Staff(id=7, username="x", totp_secret="B" * 32, totp_enrolled=False)
    token = staff_auth.enrolment_token(secret_key="k" * 40, staff_id=7, totp_secret="B" * 32, now=clock.now())
    assert staff_auth.enrolment_token_valid(token, secret_key="k" * 40, staff=staff, now=clock.now())
    assert not staff_auth.enrolment_token_valid(token, secret_key="other" * 8, staff=staff, now=clock.now())
    assert not staff_auth.enrolment_token_valid("garbage", secret_key="k" * 40, staff=staff, now=clock.now())
    staff.totp_secret = "C" * 32
    assert not staff_auth.enrolment_token_valid(token, secret_key="k" * 40, staff=staff, now=clock.now())


async def test_dev_accounts_show_codes_that_sign_in(client, clock):
    response = await client.get("/api/dev/accounts")
    assert response.status == 200
    accounts = (await response.json())["accounts"]
    assert [a["username"] for a in accounts] == [d.username for d in DEMO_STAFF]
    admin = next(a for a in accounts if a["role"] == "admin")
    assert re.fullmatch(r"\d{6}", admin["totp_code"])
    assert 1 <= admin["seconds_left"] <= 30
    assert admin["totp_enrolled"] is True
    status, data = await login(client, admin["username"], admin["password"], admin["totp_code"])
    assert status == 200
    assert data["staff"]["role"] == "admin"


def set_cookie_header(response: Any, name: str) -> str:
    headers = response.headers.getall("Set-Cookie", [])
    matching = [h for h in headers if h.startswith(f"{name}=")]
    assert matching, f"no {name} cookie in {[h.split('=')[0] for h in headers]}"
    return str(matching[0])


async def test_over_https_session_and_csrf_cookies_carry_the_host_prefix(aiohttp_client, settings, clock):
    """ASVS 3.4.4: a sibling subdomain of the city can plant `vibue_csrf` or `vibue_staff`, never `__Host-…`."""
    from vibue.app import create_app

    # The jar of the plain-http test client would not send Secure cookies: they go by hand here.
    client = await aiohttp_client(
        create_app(settings.replace(secure_cookies=True), clock=clock), cookie_jar=DummyCookieJar()
    )
    _, secret = await add_staff(client.app[SESSIONS], "clerk1")

    csrf = set_cookie_header(await client.get("/healthz"), "__Host-vibue_csrf")
    attributes = [part.strip().lower() for part in csrf.split(";")]
    assert "secure" in attributes and "path=/" in attributes
    assert not [a for a in attributes if a.startswith("domain")]
    token = csrf.split(";")[0].split("=", 1)[1]

    body = {"username": "clerk1", "password": PASSWORD, "code": totp.code_at(secret, clock.now())}
    planted = await client.post(
        "/api/staff/login", json=body, headers={"Cookie": f"vibue_csrf={token}", "X-CSRF-Token": token}
    )
    assert planted.status == 403
    assert (await planted.json())["error"]["code"] == "csrf_failed"

    signed_in = await client.post(
        "/api/staff/login", json=body, headers={"Cookie": f"__Host-vibue_csrf={token}", "X-CSRF-Token": token}
    )
    assert signed_in.status == 200
    session = set_cookie_header(signed_in, "__Host-vibue_staff")
    attributes = [part.strip().lower() for part in session.split(";")]
    assert {"secure", "httponly", "path=/"} <= set(attributes)
    assert not [a for a in attributes if a.startswith("domain")]
    value = session.split(";")[0].split("=", 1)[1]

    assert (await client.get("/api/staff/me", headers={"Cookie": f"vibue_staff={value}"})).status == 401
    assert (await client.get("/api/staff/me", headers={"Cookie": f"__Host-vibue_staff={value}"})).status == 200

    both = f"__Host-vibue_csrf={token}; __Host-vibue_staff={value}"
    out = await client.post("/api/staff/logout", json={}, headers={"Cookie": both, "X-CSRF-Token": token})
    assert out.status == 204
    # The browser takes the deletion only with the same attributes (Secure) as the cookie had.
    deletion = set_cookie_header(out, "__Host-vibue_staff")
    assert "secure" in [part.strip().lower() for part in deletion.split(";")]
    assert (await client.get("/api/staff/me", headers={"Cookie": f"__Host-vibue_staff={value}"})).status == 401
