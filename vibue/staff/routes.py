"""Staff sign-in, authenticator enrolment, sign-out and "who am I"."""

from __future__ import annotations

from aiohttp import web

from vibue.core.db import unit_of_work
from vibue.models import Staff
from vibue.staff import service as staff_auth
from vibue.staff import sessions as staff_sessions
from vibue.staff.schemas import EnrolBody, EnrolmentOut, LoginBody, LoginResult, Me, StaffOut
from vibue.web.appkeys import CLOCK, LOCKOUTS, RATE_LIMITER, SESSIONS, SETTINGS
from vibue.web.routing import PUBLIC, STAFF, Routes, signed_in_staff

routes = Routes("staff")

LOGIN_WINDOW_SECONDS = 15 * 60


async def _limit(request: web.Request) -> str:
    """Count the attempt against the client's limit; returns the client's key (the lockout's source)."""
    limiter = request.app[RATE_LIMITER]
    source = limiter.client_key(request)
    await limiter.hit("staff_login", source, limit=request.app[SETTINGS].rate_limit_logins, window=LOGIN_WINDOW_SECONDS)
    return source


async def _signed_in(request: web.Request, staff: Staff) -> web.Response:
    """Open a session in its own unit of work and answer with the cookie set."""
    settings = request.app[SETTINGS]
    async with request.app[SESSIONS].begin() as session:
        token = await staff_sessions.open_session(
            session=session, staff=staff, now=request.app[CLOCK].now(), hours=settings.staff_session_hours
        )
    response = web.json_response(text=LoginResult(staff=StaffOut.of(staff)).model_dump_json())
    response.set_cookie(
        settings.cookie_name(staff_sessions.COOKIE),
        token,
        path="/",
        httponly=True,
        samesite="Strict",
        secure=settings.cookies_secure,
        max_age=settings.staff_session_hours * 3600,
    )
    return response


@routes.post(
    "/api/staff/login",
    roles=PUBLIC,
    summary="Sign in with user name, password and one-time code (or start authenticator enrolment)",
    body=LoginBody,
    response=LoginResult,
    errors=("invalid_credentials", "account_locked", "rate_limited", "limits_unavailable"),
    refuses_unstorable_itself=True,
)
async def login(request: web.Request, body: LoginBody) -> web.StreamResponse | LoginResult:
    source = await _limit(request)
    settings = request.app[SETTINGS]
    # Refusals are raised after the commit: failures are counted and audited.
    async with unit_of_work(request.app[SESSIONS]) as session:
        outcome = await staff_auth.sign_in(
            session=session,
            username=body.username,
            password=body.password,
            code=body.code,
            now=request.app[CLOCK].now(),
            secret_key=settings.secret_key,
            city_name=settings.city_name,
            lockouts=request.app[LOCKOUTS],
            source=source,
        )
    if outcome.enrolment is not None:
        e = outcome.enrolment
        return LoginResult(
            enrolment=EnrolmentOut(token=e.token, secret=e.secret, otpauth_uri=e.otpauth_uri, qr_svg=e.qr_svg)
        )
    assert outcome.staff is not None
    return await _signed_in(request, outcome.staff)


@routes.post(
    "/api/staff/enrol",
    roles=PUBLIC,
    summary="Finish authenticator enrolment with its first code; signs in",
    body=EnrolBody,
    response=LoginResult,
    errors=("enrolment_invalid", "code_invalid", "account_locked", "rate_limited", "limits_unavailable"),
)
async def enrol(request: web.Request, body: EnrolBody) -> web.StreamResponse:
    source = await _limit(request)
    async with unit_of_work(request.app[SESSIONS]) as session:
        outcome = await staff_auth.finish_enrolment(
            session=session,
            token=body.token,
            code=body.code,
            now=request.app[CLOCK].now(),
            secret_key=request.app[SETTINGS].secret_key,
            lockouts=request.app[LOCKOUTS],
            source=source,
        )
    assert outcome.staff is not None
    return await _signed_in(request, outcome.staff)


@routes.post("/api/staff/logout", roles=STAFF, summary="Sign out this browser", status=204)
async def logout(request: web.Request) -> web.StreamResponse:
    staff = signed_in_staff(request)
    settings = request.app[SETTINGS]
    cookie_name = settings.cookie_name(staff_sessions.COOKIE)
    async with request.app[SESSIONS].begin() as session:
        await staff_auth.sign_out(
            session=session,
            staff=staff,
            token=request.cookies.get(cookie_name, ""),
            now=request.app[CLOCK].now(),
        )
    response = web.Response(status=204)
    # A __Host- cookie is only replaced by one with the same attributes, Secure included.
    response.del_cookie(cookie_name, path="/", secure=settings.cookies_secure, httponly=True, samesite="Strict")
    return response


@routes.get("/api/staff/me", roles=STAFF, summary="The signed-in staff member", response=Me)
async def me(request: web.Request) -> Me:
    return Me(staff=StaffOut.of(signed_in_staff(request)))
