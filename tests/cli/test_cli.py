"""The admin CLI against real databases: each command changes what it says and is audited."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from tests.helpers import post_json
from vibue.cli import admin_main, parse_interval, parse_weekday, run_admin
from vibue.core.clock import ManualClock
from vibue.models import (
    AuditEntry,
    Capacity,
    Closure,
    Concern,
    Location,
    OpeningHours,
    ServiceUnit,
    Staff,
    StaffSession,
)
from vibue.seed import seed_demo
from vibue.staff import sessions as staff_sessions
from vibue.staff.passwords import verify_password
from vibue.web.appkeys import SESSIONS

NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


@pytest.fixture
async def seeded(sessions, settings):
    async with sessions.begin() as session:
        await seed_demo(session=session, now=NOW, settings=settings)
    return sessions


async def admin(settings: Any, *argv: str, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = await run_admin(list(argv), settings, out=out, err=err, stdin=io.StringIO(stdin), clock=ManualClock(NOW))
    return status, out.getvalue(), err.getvalue()


async def one(sessions: Any, query: Any) -> Any:
    async with sessions() as session:
        return await session.scalar(query)


async def audit_actions(sessions: Any) -> list[tuple[str, str]]:
    async with sessions() as session:
        rows = await session.scalars(select(AuditEntry).where(AuditEntry.actor == "admin-cli").order_by(AuditEntry.id))
        return [(row.action, row.subject) for row in rows]


def test_parsers():
    assert parse_weekday("0") == 0
    assert parse_weekday("Mon") == 0
    assert parse_weekday("do") == 3
    assert parse_weekday("Sonntag") == 6
    assert parse_interval("8:00-12:30") == (time(8), time(12, 30))


async def test_staff_add_list_and_audit(seeded, settings):
    status, out, err = await admin(
        settings, "staff", "add", "P.Neu", "--name", "Paula Neu", "--role", "clerk", "--password-stdin",
        stdin="a long enough password\n",
    )  # fmt: skip
    assert (status, err) == (0, "")
    assert "added p.neu (clerk)" in out
    staff = await one(seeded, select(Staff).where(Staff.username == "p.neu"))
    assert staff.display_name == "Paula Neu"
    assert not staff.totp_enrolled
    assert await verify_password(staff.password_hash, "a long enough password")
    assert await audit_actions(seeded) == [("staff.created", f"staff:{staff.id}")]

    status, out, _ = await admin(settings, "staff", "list")
    assert status == 0
    line = next(line for line in out.splitlines() if line.startswith("p.neu"))
    assert "pending" in line
    assert "Paula Neu" in line

    status, _, err = await admin(
        settings, "staff", "add", "p.neu", "--name", "X", "--role", "clerk", "--password-stdin", stdin="x" * 20
    )
    assert status == 2
    assert err == "error: staff member 'p.neu' exists already\n"
    status, _, err = await admin(
        settings, "staff", "add", "q.neu", "--name", "Q", "--role", "admin", "--password-stdin", stdin="short\n"
    )
    assert status == 2
    assert "12 to 200 characters" in err
    status, _, err = await admin(settings, "staff", "add", "q.neu", "--name", "Q", "--role", "boss")
    assert status == 2  # argparse refuses the role


async def test_staff_deactivate_reset_totp_and_unlock(seeded, settings):
    staff = await one(seeded, select(Staff).where(Staff.username == "s.berger"))
    async with seeded.begin() as session:
        await staff_sessions.open_session(session=session, staff=staff, now=NOW, hours=1)
        row = await session.get(Staff, staff.id)
        row.locked_until = NOW + timedelta(minutes=10)
        row.failed_attempts = 3

    assert (await admin(settings, "staff", "unlock", "s.berger"))[0] == 0
    row = await one(seeded, select(Staff).where(Staff.id == staff.id))
    assert (row.locked_until, row.failed_attempts) == (None, 0)

    assert (await admin(settings, "staff", "reset-totp", "S.Berger"))[0] == 0
    row = await one(seeded, select(Staff).where(Staff.id == staff.id))
    assert not row.totp_enrolled
    assert row.totp_secret != staff.totp_secret
    assert await one(seeded, select(StaffSession).where(StaffSession.staff_id == staff.id)) is None

    assert (await admin(settings, "staff", "deactivate", "s.berger"))[0] == 0
    assert not (await one(seeded, select(Staff).where(Staff.id == staff.id))).active

    status, _, err = await admin(settings, "staff", "unlock", "nobody")
    assert status == 2
    assert err == "error: no staff member 'nobody'\n"
    assert [a for a, _ in await audit_actions(seeded)] == ["staff.unlocked", "staff.totp_reset", "staff.deactivated"]


async def test_concerns(seeded, settings):
    status, out, _ = await admin(settings, "concerns", "list")
    assert status == 0
    assert any(line.startswith("rentenantrag") and " 60 " in line for line in out.splitlines())
    assert (await admin(settings, "concerns", "set-duration", "rentenantrag", "45"))[0] == 0
    concern = await one(seeded, select(Concern).where(Concern.slug == "rentenantrag"))
    assert concern.duration_minutes == 45
    assert (await admin(settings, "concerns", "deactivate", "rentenantrag"))[0] == 0
    assert not (await one(seeded, select(Concern).where(Concern.slug == "rentenantrag"))).active
    assert (await admin(settings, "concerns", "set-duration", "rentenantrag", "0"))[0] == 2
    status, _, err = await admin(settings, "concerns", "deactivate", "nope")
    assert status == 2
    assert "no concern 'nope'" in err
    assert [a for a, _ in await audit_actions(seeded)] == ["concern.duration_set", "concern.deactivated"]


async def test_hours(seeded, settings):
    status, out, _ = await admin(settings, "hours", "list", "buergeramt-mitte")
    assert status == 0
    assert out.splitlines()[3] == "thu  08:00-12:00 14:00-18:00"
    assert out.splitlines()[5] == "sat  closed"

    assert (await admin(settings, "hours", "set", "buergeramt-mitte", "thu", "13:00-19:00", "07:30-11:00"))[0] == 0
    location = await one(seeded, select(Location).where(Location.slug == "buergeramt-mitte"))
    async with seeded() as session:
        rows = await session.scalars(
            select(OpeningHours)
            .where(OpeningHours.location_id == location.id, OpeningHours.weekday == 3)
            .order_by(OpeningHours.opens)
        )
        assert [(r.opens, r.closes) for r in rows] == [(time(7, 30), time(11)), (time(13), time(19))]
    assert (await admin(settings, "hours", "set", "buergeramt-mitte", "fr", "closed"))[0] == 0
    status, out, _ = await admin(settings, "hours", "list", "buergeramt-mitte")
    assert "fri  closed" in out.splitlines()

    for bad in (["9:00-8:00"], ["08:00-12:00", "11:00-13:00"], ["8-12"], ["25:00-26:00"]):
        status, _, err = await admin(settings, "hours", "set", "buergeramt-mitte", "mon", *bad)
        assert status == 2, bad
        assert err.startswith("error: ")
    status, _, err = await admin(settings, "hours", "set", "nowhere", "mon", "08:00-12:00")
    assert status == 2
    assert "known: buergeramt-mitte, buergeramt-neuenheim, bv-video" in err
    assert (await admin(settings, "hours", "set", "buergeramt-mitte", "someday", "08:00-12:00"))[0] == 2


async def test_closures(seeded, settings):
    status, out, err = await admin(
        settings, "closures", "add", "buergeramt-mitte", "2027-02-15", "2027-02-16", "--reason", "Fasnacht"
    )
    assert (status, err) == (0, "")
    status, out, _ = await admin(settings, "closures", "list", "buergeramt-mitte")
    assert "2027-02-15  2027-02-16  Fasnacht" in out.splitlines()
    status, _, err = await admin(settings, "closures", "add", "buergeramt-mitte", "2027-02-16")
    assert status == 2
    assert "overlaps the closure 2027-02-15..2027-02-16" in err
    assert (await admin(settings, "closures", "add", "buergeramt-mitte", "2027-03-02", "2027-03-01"))[0] == 2
    assert (await admin(settings, "closures", "add", "buergeramt-mitte", "15.02.2027"))[0] == 2

    assert (await admin(settings, "closures", "remove", "buergeramt-mitte", "2027-02-15"))[0] == 0
    assert (await admin(settings, "closures", "remove", "buergeramt-mitte", "2027-02-15"))[0] == 2
    async with seeded() as session:
        firsts = list(await session.scalars(select(Closure.first_day).order_by(Closure.first_day)))
    assert date(2027, 2, 15) not in firsts
    assert [a for a, _ in await audit_actions(seeded)] == ["closure.added", "closure.removed"]


async def test_capacity(seeded, settings):
    status, out, _ = await admin(settings, "capacity", "list")
    assert status == 0
    assert any("k.nguyen" in line and "rentenstelle" in line for line in out.splitlines())

    args = ("capacity", "add", "l.hoffmann", "pflegestuetzpunkt", "buergeramt-neuenheim", "mon", "08:00-12:00")
    status, out, err = await admin(settings, *args)
    assert (status, err) == (0, "")
    staff = await one(seeded, select(Staff).where(Staff.username == "l.hoffmann"))
    location = await one(seeded, select(Location).where(Location.slug == "buergeramt-neuenheim"))
    shift = await one(
        seeded, select(Capacity).where(Capacity.staff_id == staff.id, Capacity.location_id == location.id)
    )
    assert (shift.weekday, shift.starts, shift.ends) == (0, time(8), time(12))

    status, _, err = await admin(settings, *args[:-1], "11:00-13:00")
    assert status == 2
    assert "already has a shift 08:00-12:00" in err
    status, _, err = await admin(
        settings, "capacity", "add", "j.weber", "rentenstelle", "bv-video", "sat", "08:00-09:00"
    )
    assert status == 2
    assert "cannot serve citizens (role support" in err
    status, _, err = await admin(settings, "capacity", "add", "l.hoffmann", "nope", "bv-video", "sat", "08:00-09:00")
    assert status == 2
    assert "no service unit 'nope'" in err
    assert await audit_actions(seeded) == [("capacity.added", f"capacity:{shift.id}")]


async def test_admin_main_runs_its_own_event_loop(seeded, settings, capsys):
    assert await asyncio.to_thread(admin_main, ["concerns", "list"], settings) == 0
    assert "an-ummeldung" in capsys.readouterr().out
    assert await asyncio.to_thread(admin_main, ["concerns", "explode"], settings) == 2
    assert "invalid choice" in capsys.readouterr().err
    assert await asyncio.to_thread(admin_main, ["staff", "unlock", "nobody"], settings) == 2
    assert capsys.readouterr().err == "error: no staff member 'nobody'\n"


async def test_staff_added_by_the_cli_enrols_at_first_sign_in(client, settings):
    status, _, _ = await admin(
        settings, "staff", "add", "p.neu", "--name", "Paula Neu", "--role", "clerk", "--password-stdin",
        stdin="a long enough password\n",
    )  # fmt: skip
    assert status == 0
    response = await post_json(
        client, "/api/staff/login", {"username": "p.neu", "password": "a long enough password", "code": ""}
    )
    assert response.status == 200
    assert (await response.json())["enrolment"]["otpauth_uri"].startswith("otpauth://totp/")


async def test_staff_set_role_reset_password_and_reactivate(seeded, settings):
    berger = await one(seeded, select(Staff).where(Staff.username == "s.berger"))
    async with seeded.begin() as session:
        await staff_sessions.open_session(session=session, staff=berger, now=NOW, hours=1)

    status, out, err = await admin(settings, "staff", "set-role", "S.Berger", "admin")
    assert (status, err) == (0, "")
    assert "s.berger is now admin" in out
    assert (await one(seeded, select(Staff).where(Staff.id == berger.id))).role == "admin"
    status, _, err = await admin(settings, "staff", "set-role", "s.berger", "admin")
    assert (status, err) == (2, "error: s.berger is admin already\n")
    # Someone with shifts cannot become support staff: their shifts would keep offering slots.
    status, _, err = await admin(settings, "staff", "set-role", "s.berger", "support")
    assert status == 2
    assert "still has" in err and "capacity remove" in err
    assert (await admin(settings, "staff", "set-role", "j.weber", "clerk"))[0] == 0
    assert (await admin(settings, "staff", "set-role", "j.weber", "boss"))[0] == 2  # argparse refuses

    status, out, err = await admin(
        settings, "staff", "reset-password", "s.berger", "--password-stdin", stdin="another long password\n"
    )
    assert (status, err) == (0, "")
    row = await one(seeded, select(Staff).where(Staff.id == berger.id))
    assert await verify_password(row.password_hash, "another long password")
    assert await one(seeded, select(StaffSession).where(StaffSession.staff_id == berger.id)) is None
    status, _, err = await admin(settings, "staff", "reset-password", "s.berger", "--password-stdin", stdin="short\n")
    assert status == 2
    assert "12 to 200 characters" in err
    assert (await admin(settings, "staff", "reset-password", "nobody", "--password-stdin", stdin="x" * 20))[0] == 2

    status, _, err = await admin(settings, "staff", "reactivate", "s.berger")
    assert (status, err) == (2, "error: s.berger is active already\n")
    assert (await admin(settings, "staff", "deactivate", "s.berger"))[0] == 0
    assert (await admin(settings, "staff", "reactivate", "s.berger"))[0] == 0
    assert (await one(seeded, select(Staff).where(Staff.id == berger.id))).active

    weber = await one(seeded, select(Staff).where(Staff.username == "j.weber"))
    assert await audit_actions(seeded) == [
        ("staff.role_set", f"staff:{berger.id}"),
        ("staff.role_set", f"staff:{weber.id}"),
        ("staff.password_reset", f"staff:{berger.id}"),
        ("staff.deactivated", f"staff:{berger.id}"),
        ("staff.reactivated", f"staff:{berger.id}"),
    ]


async def concern_units(sessions: Any, slug: str) -> list[str]:
    async with sessions() as session:
        concern = await session.scalar(select(Concern).where(Concern.slug == slug))
        assert concern is not None
        await session.refresh(concern, ["units"])
        return sorted(unit.slug for unit in concern.units)


async def test_concerns_add(seeded, settings):
    status, out, err = await admin(
        settings, "concerns", "add", "hundesteuer", "--name-de", "Hundesteuer", "--name-en", "Dog tax",
        "--minutes", "20", "--channels", "video,on_site", "--unit", "buergeramt-virtuell",
        "--unit", "buergeramt-vor-ort", "--check-de", "Ausweis", "--check-de", "Chipnummer",
        "--check-en", "Identity card", "--check-en", "Chip number",
    )  # fmt: skip
    assert (status, err) == (0, "")
    assert "added hundesteuer" in out
    concern = await one(seeded, select(Concern).where(Concern.slug == "hundesteuer"))
    assert (concern.name_de, concern.name_en, concern.duration_minutes) == ("Hundesteuer", "Dog tax", 20)
    assert concern.channels == ["video", "on_site"]
    assert (concern.checklist_de, concern.checklist_en) == (["Ausweis", "Chipnummer"], ["Identity card", "Chip number"])
    assert concern.active
    assert await concern_units(seeded, "hundesteuer") == ["buergeramt-virtuell", "buergeramt-vor-ort"]
    highest = await one(seeded, select(Concern.sort_order).order_by(Concern.sort_order.desc()).limit(1))
    assert concern.sort_order == highest  # listed last
    assert await audit_actions(seeded) == [("concern.created", f"concern:{concern.id}")]

    base = ["concerns", "add", "x-neu", "--name-de", "X", "--name-en", "X", "--unit", "rentenstelle"]
    refusals = {
        "exists already": ["concerns", "add", "hundesteuer", *base[3:], "--minutes", "10", "--channels", "video"],
        "5 to 480 minutes": [*base, "--minutes", "2", "--channels", "video"],
        "--channels takes": [*base, "--minutes", "10", "--channels", "video,phone"],
        "no service unit 'nope'": [*base, "--minutes", "10", "--channels", "video", "--unit", "nope"],
        "1 German and 0 English": [*base, "--minutes", "10", "--channels", "video", "--check-de", "A"],
        "slug 'X Neu'": ["concerns", "add", "X Neu", *base[3:], "--minutes", "10", "--channels", "video"],
    }
    for message, argv in refusals.items():
        status, _, err = await admin(settings, *argv)
        assert status == 2, message
        assert message in err, err
    assert (await admin(settings, *base, "--minutes", "10"))[0] == 2  # argparse: --channels is required
    assert await one(seeded, select(Concern).where(Concern.slug == "x-neu")) is None


async def test_concerns_edit_and_activate(seeded, settings):
    status, out, err = await admin(
        settings, "concerns", "edit", "rentenantrag", "--name-en", "Pension claim", "--minutes", "45",
        "--channels", "video", "--add-unit", "buergeramt-vor-ort", "--remove-unit", "rentenstelle",
        "--check-de", "Rentenbescheid", "--check-en", "Pension notice",
    )  # fmt: skip
    assert (status, err) == (0, "")
    concern = await one(seeded, select(Concern).where(Concern.slug == "rentenantrag"))
    assert (concern.name_de, concern.name_en) == ("Rentenantrag", "Pension claim")
    assert (concern.duration_minutes, concern.channels) == (45, ["video"])
    assert (concern.checklist_de, concern.checklist_en) == (["Rentenbescheid"], ["Pension notice"])
    assert await concern_units(seeded, "rentenantrag") == ["buergeramt-vor-ort"]
    for field in ("name_en", "duration_minutes", "channels", "checklist_de", "checklist_en", "units"):
        assert field in out

    refusals = {
        "nothing to change": [],
        "at least one service unit": ["--remove-unit", "buergeramt-vor-ort"],
        "rentenstelle does not handle": ["--remove-unit", "rentenstelle"],
        "1 German and 2 English": ["--check-en", "A", "--check-en", "B"],
        "5 to 480 minutes": ["--minutes", "481"],
        "--name-de needs 1 to 160": ["--name-de", "  "],
    }
    for message, extra in refusals.items():
        status, _, err = await admin(settings, "concerns", "edit", "rentenantrag", *extra)
        assert status == 2, message
        assert message in err, err
    assert (await admin(settings, "concerns", "edit", "nope", "--minutes", "10"))[0] == 2
    unchanged = await one(seeded, select(Concern).where(Concern.slug == "rentenantrag"))
    assert (unchanged.duration_minutes, unchanged.checklist_en) == (45, ["Pension notice"])

    status, _, err = await admin(settings, "concerns", "activate", "rentenantrag")
    assert (status, err) == (2, "error: rentenantrag is offered already\n")
    assert (await admin(settings, "concerns", "deactivate", "rentenantrag"))[0] == 0
    assert (await admin(settings, "concerns", "activate", "rentenantrag"))[0] == 0
    assert (await one(seeded, select(Concern).where(Concern.slug == "rentenantrag"))).active
    audits = await audit_actions(seeded)
    assert [a for a, _ in audits] == ["concern.edited", "concern.deactivated", "concern.activated"]
    async with seeded() as session:
        edited = await session.scalar(select(AuditEntry).where(AuditEntry.action == "concern.edited"))
    assert edited is not None
    assert edited.details["units_added"] == ["buergeramt-vor-ort"]
    assert edited.details["units_removed"] == ["rentenstelle"]


async def test_capacity_remove(seeded, settings):
    async def shifts(username: str) -> list[tuple[str, str, int]]:
        async with seeded() as session:
            rows = await session.execute(
                select(ServiceUnit.slug, Location.slug, Capacity.weekday)
                .join(Staff, Staff.id == Capacity.staff_id)
                .join(ServiceUnit, ServiceUnit.id == Capacity.unit_id)
                .join(Location, Location.id == Capacity.location_id)
                .where(Staff.username == username)
                .order_by(Capacity.weekday, Capacity.starts)
            )
            return [(unit, location, day) for unit, location, day in rows.all()]

    before = await shifts("k.nguyen")
    assert ("mobilitaet-teilhabe", "buergeramt-mitte", 3) in before
    status, out, err = await admin(
        settings, "capacity", "remove", "k.nguyen", "mobilitaet-teilhabe", "buergeramt-mitte", "do"
    )
    assert (status, err) == (0, "")
    assert "08:00-12:00 14:00-18:00" in out  # Thursday has two intervals at Mitte; both go
    after = await shifts("k.nguyen")
    assert after == [s for s in before if s != ("mobilitaet-teilhabe", "buergeramt-mitte", 3)]
    assert [a for a, _ in await audit_actions(seeded)] == ["capacity.removed", "capacity.removed"]

    status, _, err = await admin(
        settings, "capacity", "remove", "k.nguyen", "mobilitaet-teilhabe", "buergeramt-mitte", "thu"
    )
    assert status == 2
    assert "has no shift for mobilitaet-teilhabe at buergeramt-mitte on thu" in err
    for argv in (
        ("nobody", "rentenstelle", "buergeramt-mitte", "mon"),
        ("k.nguyen", "nope", "buergeramt-mitte", "mon"),
        ("k.nguyen", "rentenstelle", "nowhere", "mon"),
        ("k.nguyen", "rentenstelle", "buergeramt-mitte", "someday"),
    ):
        assert (await admin(settings, "capacity", "remove", *argv))[0] == 2, argv
    assert await shifts("k.nguyen") == after


async def test_locations(seeded, settings):
    status, out, _ = await admin(settings, "locations", "list")
    assert status == 0
    lines = out.splitlines()
    assert [line.split()[0] for line in lines[1:]] == ["buergeramt-mitte", "buergeramt-neuenheim", "bv-video"]
    assert "Bergheimer Straße 69, 69115 Heidelberg" in lines[1]

    status, out, err = await admin(
        settings, "locations", "add", "buergeramt-sued", "--name", "Bürgeramt Süd", "--kind", "physical",
        "--address", "Rathausstraße 1, 69126 Heidelberg", "--name-en", "Citizens' Office South",
    )  # fmt: skip
    assert (status, err) == (0, "")
    assert "hours set buergeramt-sued" in out
    location = await one(seeded, select(Location).where(Location.slug == "buergeramt-sued"))
    assert (location.name, location.name_en, location.kind, location.address, location.address_en) == (
        "Bürgeramt Süd",
        "Citizens' Office South",
        "physical",
        "Rathausstraße 1, 69126 Heidelberg",
        "",
    )
    assert "buergeramt-sued" in (await admin(settings, "locations", "list"))[1]
    assert await audit_actions(seeded) == [("location.created", f"location:{location.id}")]

    base = ("locations", "add", "buergeramt-sued", "--name", "X", "--kind", "physical", "--address", "Y")
    status, _, err = await admin(settings, *base)
    assert (status, err) == (2, "error: location 'buergeramt-sued' exists already\n")
    assert (await admin(settings, *base[:6], "moon", *base[7:]))[0] == 2  # argparse: unknown kind
    status, _, err = await admin(settings, "locations", "add", "neu", *base[3:7], "--address", " ")
    assert status == 2
    assert "--address needs 1 to 300 characters" in err


async def offered_slots(client: Any, unit: int, concern: int, location: int) -> list[str]:
    """Every free slot start offered for a week; none when the location is no longer offered at all."""
    response = await client.get(
        "/api/slots", params={"unit": unit, "concern": concern, "location": location, "days": 7}
    )
    data = await response.json()
    if response.status == 404:
        assert data["error"]["code"] == "location_not_found", data
        return []
    assert response.status == 200, data
    return [slot["start"] for day in data["days"] for slot in day["slots"]]


async def test_deactivating_the_only_clerk_removes_the_slots(client, settings):
    """Shifts stay in place on deactivation, but the slots ignore inactive staff (run last: needs slots.py)."""
    async with client.app[SESSIONS]() as session:
        unit = await session.scalar(select(ServiceUnit.id).where(ServiceUnit.slug == "buergeramt-vor-ort"))
        concern = await session.scalar(select(Concern.id).where(Concern.slug == "an-ummeldung"))
        location = await session.scalar(select(Location.id).where(Location.slug == "buergeramt-neuenheim"))
    assert await offered_slots(client, unit, concern, location)  # a.schmidt serves there Monday to Friday

    assert (await admin(settings, "staff", "deactivate", "a.schmidt"))[0] == 0
    async with client.app[SESSIONS]() as session:
        kept = await session.scalar(
            select(Capacity.id).join(Staff, Staff.id == Capacity.staff_id).where(Staff.username == "a.schmidt")
        )
    assert kept is not None  # the shifts stay, ready for a reactivation
    assert await offered_slots(client, unit, concern, location) == []

    assert (await admin(settings, "staff", "reactivate", "a.schmidt"))[0] == 0
    assert await offered_slots(client, unit, concern, location)


async def test_staff_add_takes_the_phone_and_email_printed_on_documents(seeded, settings):
    status, _, err = await admin(
        settings, "staff", "add", "d.ruf", "--name", "Dana Ruf", "--role", "clerk", "--phone", "06221 58-0",
        "--email", "d.ruf@heidelberg.example", "--password-stdin", stdin="a long enough password\n",
    )  # fmt: skip
    assert (status, err) == (0, "")
    staff = await one(seeded, select(Staff).where(Staff.username == "d.ruf"))
    assert (staff.phone, staff.email) == ("06221 58-0", "d.ruf@heidelberg.example")
    status, _, err = await admin(
        settings, "staff", "add", "e.ruf", "--name", "E", "--role", "clerk", "--email", "no-address",
        "--password-stdin", stdin="a long enough password\n",
    )  # fmt: skip
    assert status == 2
    assert "--email" in err
