"""The route table walk: every endpoint, called by every kind of caller, honours its role set.

It reads `app[ENDPOINTS]`, so endpoints added later are covered without touching this file.
Role refusals are recognised by their codes: 401 `not_signed_in` for anonymous callers and
403 `role_forbidden` for a signed-in member of another role. Allowed callers must get neither
(an endpoint may still answer 401 for its own reasons, e.g. wrong credentials at sign-in), and
no endpoint may crash on a syntactically fine request with placeholder values.
"""

from __future__ import annotations

import re
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.helpers import STAFF_COOKIE, add_staff, csrf_headers
from vibue.mail.transports import FileOutbox
from vibue.models import Staff
from vibue.staff import sessions as staff_sessions
from vibue.web.appkeys import CLOCK, ENDPOINTS, SESSIONS
from vibue.web.routing import ADMIN, CLERK, PUBLIC, STAFF, Endpoint

CALLERS = ("anonymous", "clerk", "support", "admin")
PARAM = re.compile(r"\{(\w+)(?::((?:[^{}]|\{[^{}]*\})*))?\}")
# Placeholder values tried for path parameters, in order; the first that fits the route's pattern wins.
CANDIDATES = ("1", "VB-ABCDEF", "dummy", "x" * 16, "x" * 22, "x" * 32, "x" * 43, "20261201", "2026-12-01")


def fill_path(path: str) -> str:
    def replace(match: re.Match[str]) -> str:
        pattern = match.group(2) or r"[^{}/]+"
        for value in CANDIDATES:
            if re.fullmatch(pattern, value):
                return value
        raise AssertionError(f"no placeholder fits {match.group(0)} in {path}: add one to CANDIDATES")

    return PARAM.sub(replace, path)


def test_fill_path():
    assert fill_path("/api/x/{id}") == "/api/x/1"
    assert fill_path("/termin/{token:[A-Za-z0-9_-]{16,80}}/a") == "/termin/xxxxxxxxxxxxxxxx/a"
    assert fill_path("/api/b/{ref:VB-[A-Z]{6}}") == "/api/b/VB-ABCDEF"


async def session_cookie(client: Any, staff_id: int) -> str:
    """A fresh session for `staff_id`, opened directly (sign-in itself is tested elsewhere)."""
    async with client.app[SESSIONS].begin() as session:
        staff = await session.get(Staff, staff_id)
        assert staff is not None
        return await staff_sessions.open_session(session=session, staff=staff, now=client.app[CLOCK].now(), hours=1)


async def call(client: Any, endpoint: Endpoint, cookies: dict[str, str]) -> tuple[int, Any]:
    headers = await csrf_headers(client)
    kwargs: dict[str, Any] = {"headers": headers, "cookies": cookies}
    if endpoint.body is not None or endpoint.method not in {"GET", "HEAD", "OPTIONS", "DELETE"}:
        kwargs["json"] = {}
    response = await client.request(endpoint.method, fill_path(endpoint.path), **kwargs)
    try:
        data = await response.json(content_type=None) if response.status >= 400 else None
    except ValueError:
        data = await response.text()
    return response.status, data


def error_code(data: Any) -> str | None:
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        code = data["error"].get("code")
        return str(code) if code is not None else None
    return None


async def test_every_endpoint_honours_its_roles(client):
    endpoints: list[Endpoint] = client.app[ENDPOINTS]
    paths = {(e.method, e.path) for e in endpoints}
    # The walk only means something if the table holds what we know is there.
    assert {("POST", "/api/staff/login"), ("GET", "/api/staff/me"), ("GET", "/api/clerk/day")} <= paths
    assert all(e.roles for e in endpoints)

    ids = {}
    for role in ("clerk", "support", "admin"):
        ids[role], _ = await add_staff(client.app[SESSIONS], f"walk-{role}", role=role)

    problems: list[str] = []
    for endpoint in endpoints:
        for caller in CALLERS:
            cookies = {} if caller == "anonymous" else {STAFF_COOKIE: await session_cookie(client, ids[caller])}
            status, data = await call(client, endpoint, cookies)
            code = error_code(data)
            where = f"{endpoint.method} {endpoint.path} as {caller}: {status} {code}"
            allowed = endpoint.public or caller in endpoint.roles
            if status >= 500:
                problems.append(f"{where} (crashed)")
            elif allowed and (status, code) in {(401, "not_signed_in"), (403, "role_forbidden")}:
                problems.append(f"{where} (refused an allowed caller)")
            elif allowed and code == "csrf_failed":
                problems.append(f"{where} (CSRF check failed with the header set)")
            elif not allowed and caller == "anonymous" and (status, code) != (401, "not_signed_in"):
                problems.append(f"{where} (expected 401 not_signed_in)")
            elif not allowed and caller != "anonymous" and (status, code) != (403, "role_forbidden"):
                problems.append(f"{where} (expected 403 role_forbidden)")
    assert not problems, "\n".join(problems)


async def test_role_sets_are_the_declared_ones(client):
    """Pin the roles of the endpoints this suite owns; a change here must be deliberate."""
    roles = {(e.method, e.path): e.roles for e in client.app[ENDPOINTS]}
    assert roles[("POST", "/api/staff/login")] == PUBLIC
    assert roles[("POST", "/api/staff/enrol")] == PUBLIC
    assert roles[("POST", "/api/staff/logout")] == STAFF
    assert roles[("GET", "/api/staff/me")] == STAFF
    assert roles[("GET", "/api/clerk/day")] == CLERK
    assert roles[("GET", "/api/clerk/concerns")] == CLERK
    assert roles[("POST", "/api/clerk/walk-ins")] == CLERK
    assert CLERK < STAFF
    assert ADMIN < CLERK


def test_dev_endpoints_do_not_exist_in_production(settings):
    from vibue.app import create_app

    production = settings.replace(mode="production", seed_demo=False, secret_key="p" * 40)
    app: web.Application = create_app(production)
    paths = {e.path for e in app[ENDPOINTS]}
    assert not any(path.startswith("/api/dev/") for path in paths)
    assert "/api/staff/login" in paths
    development = create_app(settings)
    assert {"/api/dev/accounts", "/api/dev/outbox"} <= {e.path for e in development[ENDPOINTS]}


async def test_dev_outbox_lists_messages_with_their_text(aiohttp_client, settings, clock):
    from vibue.app import create_app

    file_settings = settings.replace(mail_transport="file", seed_demo=False)
    client = await aiohttp_client(create_app(file_settings, clock=clock))
    assert (await (await client.get("/api/dev/outbox")).json())["messages"] == []
    message = EmailMessage()
    message["To"] = "erika@example.org"
    message["From"] = "buergeramt@example.org"
    message["Subject"] = "Ihr Termin"
    message["Date"] = "Mon, 30 Nov 2026 07:00:00 +0100"
    message.set_content("Guten Tag,\nIhr Termin ist bestätigt.\n")
    message.add_alternative("<p>Guten Tag</p>", subtype="html")
    await FileOutbox(Path(file_settings.data_dir) / "outbox").send(message)
    data = await (await client.get("/api/dev/outbox")).json()
    [entry] = data["messages"]
    assert entry["file"].endswith(".eml")
    assert entry["to"] == "erika@example.org"
    assert entry["subject"] == "Ihr Termin"
    assert entry["date"] == "2026-11-30T07:00:00+01:00"
    assert entry["text"] == "Guten Tag,\nIhr Termin ist bestätigt.\n"
