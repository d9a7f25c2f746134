"""Schemathesis against /api/openapi.json: what the document promises, the served app keeps.

Positive data only (what the document calls valid must not be refused as invalid), with the
checks not_a_server_error, status_code_conformance, content_type_conformance,
response_schema_conformance, response_headers_conformance and positive_data_acceptance. Few
derandomized cases per operation, so the run is short and the same on every machine; staff-only
operations run signed in as an admin, every state-changing one with the CSRF header.
"""

from __future__ import annotations

import asyncio
import unicodedata
from typing import Any

import pytest
import requests
import schemathesis
from aiohttp import web
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

import signaling
from tests.booking_flow import confirmed_booking, offer
from tests.helpers import CSRF_COOKIE, STAFF_COOKIE, cookie, csrf_headers, sign_in_demo
from tests.issued.conftest import make_factory
from tests.smtp import MailCatcher
from vibue.app import create_app
from vibue.core.clock import ManualClock
from vibue.core.fields import mail_address
from vibue.core.settings import Settings
from vibue.issued.ports import DOCUMENT_FACTORY

CASES = 12  # per operation: about 20 s for the whole document on 2 cores
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    positive_data_acceptance,
]
# Signing out would end the session the staff-only operations run in.
LEFT_OUT = {("POST", "/api/staff/logout")}
# Refusals that are the domain's answer to well-formed data (a wrong identity code, a locked
# account), not a verdict on its form; positive_data_acceptance allows the others it knows.
DOMAIN_REFUSALS = ["2xx", "3xx", "401", "403", "404", "409", "422", "423", "429", "503"]
CONFIG = schemathesis.Config.from_dict({"checks": {"positive_data_acceptance": {"expected-statuses": DOMAIN_REFUSALS}}})
# What the routing answers when it did not take the data as valid: a positive case must never get one.
FORM_REFUSALS = {"validation_failed", "malformed_json", "json_required", "json_too_complex", "body_too_large"}


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def what_the_document_means(case: schemathesis.Case[Any]) -> bool:
    """Leave out the cases where the generator, not the document, is wrong or cannot follow it.

    Schemathesis approximates \\p{M} with whole blocks, unassigned code points included, which
    \\p{M} does not match; and an email's domain must also have an IDNA 2008 form, which the
    document says in words because no pattern can.
    """
    values = _strings(case.body) + _strings(case.query) + _strings(case.path_parameters)
    if any(unicodedata.category(ch) == "Cn" for value in values for ch in value):
        return False
    email = case.body.get("email") if isinstance(case.body, dict) else None
    if isinstance(email, str):
        try:
            mail_address(email)
        except ValueError:
            return False
    return True


def run_operations(
    schema_doc: dict[str, Any], base_url: str, cookies: dict[str, str], csrf: str, booking_token: str
) -> list[str]:
    """Drive every operation (blocking: runs in a thread while the app serves on the test's loop)."""

    schema = schemathesis.openapi.from_dict(schema_doc, config=CONFIG)
    failures: list[str] = []
    with requests.Session() as session:
        session.cookies.update(cookies)
        operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
        # Cancelling last, so the other booking operations see the appointment while it is open.
        for operation in sorted(operations, key=lambda op: op.path.endswith("/cancel")):
            if (operation.method.upper(), operation.path) in LEFT_OUT:
                continue
            # The booking's and the video page's operations on a real, confirmed video appointment.
            real = operation.path.startswith(("/api/bookings/", "/api/video/"))
            strategy = operation.as_strategy(
                cookies=cookies,
                headers={"X-CSRF-Token": csrf},
                path_parameters={"token": booking_token} if real else None,
            )

            @hypothesis_settings(
                max_examples=CASES,
                derandomize=True,
                database=None,
                deadline=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=strategy.filter(what_the_document_means))
            def check(case: schemathesis.Case[Any]) -> None:
                response = case.call_and_validate(
                    base_url=base_url, session=session, headers={"X-CSRF-Token": csrf}, checks=CHECKS
                )
                if 400 <= response.status_code < 500:
                    code = response.json()["error"]["code"]
                    assert code not in FORM_REFUSALS, f"valid data refused: {case.body!r} -> {response.text[:500]}"

            try:
                check()
            # Every operation is tried; all failures are reported together.
            except (Exception, BaseExceptionGroup) as exc:
                failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    return failures


def plug_documents(app: web.Application) -> None:
    """The documents routes answer with a factory behind them (the integrator's documents.setup)."""
    app[DOCUMENT_FACTORY] = make_factory()


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Rate limits would answer most cases with 429 before the data is looked at.
    limits = {name: 100_000 for name in Settings.__dataclass_fields__ if name.startswith("rate_limit_")}
    return settings.replace(**limits)


async def test_the_served_app_keeps_its_openapi_document(
    aiohttp_server: Any, aiohttp_client: Any, settings: Settings, clock: ManualClock, mail_catcher: MailCatcher
) -> None:
    server = await aiohttp_server(create_app(settings, clock=clock, setups=[signaling.setup, plug_documents]))
    client: TestClient[Any, Any] = await aiohttp_client(server)
    booking_token = await confirmed_booking(client, mail_catcher, await offer(client), "2026-11-30T08:00:00+01:00")
    clock.advance(minutes=61)  # 08:01: the video room is open
    await sign_in_demo(client, "admin")
    csrf = (await csrf_headers(client))["X-CSRF-Token"]
    cookies = {name: cookie(client, name) or "" for name in (CSRF_COOKIE, STAFF_COOKIE)}
    document = await (await client.get("/api/openapi.json")).json()
    base_url = str(server.make_url(""))
    failures = await asyncio.to_thread(run_operations, document, base_url, cookies, csrf, booking_token)
    assert failures == [], "\n\n".join(failures)
