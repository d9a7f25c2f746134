"""The clerk's desk: the day list, on-site concerns and walk-in counting, on the seeded demo office."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from tests.helpers import post_json, sign_in, sign_in_demo, sign_out
from vibue.models import Appointment, AuditEntry, Concern, Location, ServiceUnit
from vibue.seed import DEMO_STAFF
from vibue.web.appkeys import SESSIONS

DEMO_PASSWORDS = {d.username: d.password for d in DEMO_STAFF}


async def catalog_ids(client: Any) -> dict[str, int]:
    async with client.app[SESSIONS]() as session:
        ids = {f"concern:{c.slug}": c.id for c in await session.scalars(select(Concern))}
        ids.update({f"location:{loc.slug}": loc.id for loc in await session.scalars(select(Location))})
    return ids


async def insert_appointment(
    client: Any,
    *,
    reference: str,
    start: datetime,
    concern: str = "meldebescheinigung",
    location: str = "bv-video",
    status: str = "confirmed",
    channel: str = "video",
    name: str = "Erika Mustermann",
    unit: str | None = None,
    reserved_until: datetime | None = None,
) -> int:
    """Insert an appointment; the unit defaults to the Bürgeramt that serves on that channel."""
    unit = unit or ("buergeramt-virtuell" if channel == "video" else "buergeramt-vor-ort")
    async with client.app[SESSIONS].begin() as session:
        concern_row = await session.scalar(select(Concern).where(Concern.slug == concern))
        location_row = await session.scalar(select(Location).where(Location.slug == location))
        unit_row = await session.scalar(select(ServiceUnit).where(ServiceUnit.slug == unit))
        assert concern_row is not None
        assert location_row is not None
        assert unit_row is not None
        appointment = Appointment(
            reference=reference,
            unit_id=unit_row.id,
            concern_id=concern_row.id,
            location_id=location_row.id,
            channel=channel,
            status=status,
            start_at=start,
            end_at=start + timedelta(minutes=10),
            reserved_until=reserved_until,
            citizen_name=name,
            citizen_email="erika@example.org",
            created_at=start,
            updated_at=start,
        )
        session.add(appointment)
        await session.flush()
        return appointment.id


async def test_day_lists_the_local_day_with_cancelled_last(client):
    ids = await catalog_ids(client)
    # Tuesday 1 December 2026 in Heidelberg (UTC+1).
    cancelled = await insert_appointment(
        client, reference="VB-CCCCCC", start=datetime(2026, 12, 1, 7, 0, tzinfo=UTC), status="cancelled"
    )
    late = await insert_appointment(
        client,
        reference="VB-LLLLLL",
        start=datetime(2026, 12, 1, 22, 30, tzinfo=UTC),  # 23:30 local: still that day
        location="buergeramt-mitte",
        channel="on_site",
        concern="an-ummeldung",
        name="Max Muster",
    )
    early = await insert_appointment(client, reference="VB-EEEEEE", start=datetime(2026, 12, 1, 8, 0, tzinfo=UTC))
    # 00:00 local on the next day, and 23:59 local on the day before: both outside.
    await insert_appointment(client, reference="VB-NNNNNN", start=datetime(2026, 12, 1, 23, 0, tzinfo=UTC))
    await insert_appointment(client, reference="VB-PPPPPP", start=datetime(2026, 11, 30, 22, 59, tzinfo=UTC))
    await sign_in_demo(client, "admin")  # sees every unit and location

    response = await client.get("/api/clerk/day", params={"date": "2026-12-01"})
    assert response.status == 200
    data = await response.json()
    assert data["date"] == "2026-12-01"
    assert [a["id"] for a in data["appointments"]] == [early, late, cancelled]
    first = data["appointments"][0]
    assert first == {
        "id": early,
        "reference": "VB-EEEEEE",
        "start": "2026-12-01T08:00:00Z",
        "end": "2026-12-01T08:10:00Z",
        "concern": {"id": ids["concern:meldebescheinigung"], "name": "Meldebescheinigung"},
        "citizen_name": "Erika Mustermann",
        "channel": "video",
        "status": "confirmed",
        "location": {"id": ids["location:bv-video"], "name": "Bürgeramt Virtuell"},
    }
    assert data["appointments"][1]["location"]["id"] == ids["location:buergeramt-mitte"]
    assert data["appointments"][2]["status"] == "cancelled"
    assert data["walk_ins"] == []

    english = await client.get("/api/clerk/day", params={"date": "2026-12-01"}, headers={"Accept-Language": "en"})
    assert (await english.json())["appointments"][0]["concern"]["name"] == "Certificate of registration"


async def test_clerks_see_only_their_units_and_locations(client):
    day = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # Tuesday
    video = await insert_appointment(client, reference="VB-VVVVVV", start=day)
    mitte = await insert_appointment(
        client,
        reference="VB-MMMMMM",
        start=day + timedelta(minutes=30),
        location="buergeramt-mitte",
        channel="on_site",
        concern="an-ummeldung",
    )
    # Another unit at s.berger's location: the location alone does not open it to her.
    care = await insert_appointment(
        client,
        reference="VB-PFLEGE",
        start=day + timedelta(hours=1),
        unit="pflegestuetzpunkt",
        concern="pflegeberatung",
    )

    async def listed() -> list[int]:
        response = await client.get("/api/clerk/day", params={"date": "2026-12-01"})
        assert response.status == 200
        return [a["id"] for a in (await response.json())["appointments"]]

    await sign_in(client, None, "s.berger", DEMO_PASSWORDS["s.berger"])  # Bürgeramt Virtuell at bv-video
    assert await listed() == [video]
    await sign_out(client)
    # Shifts on any weekday count: m.yilmaz serves bv-video on Thursdays only, the list is Tuesday's.
    await sign_in(client, None, "m.yilmaz", DEMO_PASSWORDS["m.yilmaz"])
    assert await listed() == [video, mitte]
    await sign_out(client)
    await sign_in(client, None, "l.hoffmann", DEMO_PASSWORDS["l.hoffmann"])  # Pflegestützpunkt
    assert await listed() == [care]
    await sign_out(client)
    await sign_in_demo(client, "admin")
    assert await listed() == [video, mitte, care]


async def test_expired_reservations_are_not_listed(client, clock):
    now = clock.now()
    start = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    await insert_appointment(
        client, reference="VB-XXXXXX", start=start, status="reserved", reserved_until=now - timedelta(seconds=1)
    )
    await insert_appointment(client, reference="VB-ENDNOW", start=start, status="reserved", reserved_until=now)
    held = await insert_appointment(
        client,
        reference="VB-HELDHH",
        start=start + timedelta(minutes=10),
        status="reserved",
        reserved_until=now + timedelta(minutes=5),
    )
    await sign_in_demo(client, "clerk")
    data = await (await client.get("/api/clerk/day", params={"date": "2026-12-01"})).json()
    assert [(a["id"], a["status"]) for a in data["appointments"]] == [(held, "reserved")]
    clock.advance(minutes=5)
    data = await (await client.get("/api/clerk/day", params={"date": "2026-12-01"})).json()
    assert data["appointments"] == []


async def test_day_defaults_to_today_in_the_office_time_zone(client, clock):
    clock.set(datetime(2026, 11, 30, 23, 30, tzinfo=UTC))  # already 1 December in Heidelberg
    await sign_in_demo(client, "clerk")
    await insert_appointment(client, reference="VB-TTTTTT", start=datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    data = await (await client.get("/api/clerk/day")).json()
    assert data["date"] == "2026-12-01"
    assert [a["reference"] for a in data["appointments"]] == ["VB-TTTTTT"]


async def test_day_rejects_a_malformed_date(client):
    await sign_in_demo(client, "clerk")
    response = await client.get("/api/clerk/day", params={"date": "1.12.2026"})
    assert response.status == 422
    assert (await response.json())["error"]["fields"] == {"date": "Das Datum ist nicht lesbar (JJJJ-MM-TT)."}


async def test_concerns_are_the_active_on_site_ones(client):
    await sign_in_demo(client, "clerk")
    data = await (await client.get("/api/clerk/concerns")).json()
    names = [c["name"] for c in data["concerns"]]
    assert names[0] == "An- und Ummeldung innerhalb Heidelbergs"
    assert "Rentenantrag" in names
    async with client.app[SESSIONS].begin() as session:
        concern = await session.scalar(select(Concern).where(Concern.slug == "rentenantrag"))
        assert concern is not None
        concern.active = False
    data = await (await client.get("/api/clerk/concerns", headers={"Accept-Language": "en"})).json()
    names = [c["name"] for c in data["concerns"]]
    assert "Pension application" not in names
    assert "Certificate of registration" in names


async def test_walk_ins_are_counted_without_personal_data(client):
    ids = await catalog_ids(client)
    clerk = await sign_in(client, None, "m.yilmaz", DEMO_PASSWORDS["m.yilmaz"])
    concern_id = ids["concern:an-ummeldung"]
    for expected in (1, 2):
        response = await post_json(client, "/api/clerk/walk-ins", {"concern_id": concern_id})
        assert response.status == 201
        assert await response.json() == {"concern_id": concern_id, "count_today": expected}
    other = await post_json(client, "/api/clerk/walk-ins", {"concern_id": ids["concern:meldebescheinigung"]})
    assert (await other.json())["count_today"] == 1

    data = await (await client.get("/api/clerk/day")).json()
    assert data["appointments"] == []  # walk-ins are counted, not listed
    assert data["walk_ins"] == [
        {"concern_id": concern_id, "name": "An- und Ummeldung innerhalb Heidelbergs", "count": 2},
        {"concern_id": ids["concern:meldebescheinigung"], "name": "Meldebescheinigung", "count": 1},
    ]

    async with client.app[SESSIONS]() as session:
        rows = list(await session.scalars(select(Appointment).order_by(Appointment.id)))
        audits = list(await session.scalars(select(AuditEntry).where(AuditEntry.action == "walk_in.recorded")))
    assert len(rows) == 3
    references = {row.reference for row in rows}
    assert len(references) == 3
    for row in rows:
        assert row.channel == "walk_in"
        assert row.status == "completed"
        assert (row.citizen_name, row.citizen_email, row.citizen_phone) == ("", "", "")
        assert row.clerk_id == clerk["id"]
        assert row.location_id == ids["location:buergeramt-mitte"]  # where this clerk's shifts are
        assert row.reference.startswith("VB-")
    assert [a.actor for a in audits] == [f"staff:{clerk['id']}"] * 3


async def test_walk_in_location_follows_the_clerk_or_the_request(client):
    ids = await catalog_ids(client)
    await sign_in(client, None, "a.schmidt", DEMO_PASSWORDS["a.schmidt"])  # admin, serves in Neuenheim
    concern_id = ids["concern:an-ummeldung"]
    assert (await post_json(client, "/api/clerk/walk-ins", {"concern_id": concern_id})).status == 201
    chosen = await post_json(
        client, "/api/clerk/walk-ins", {"concern_id": concern_id, "location_id": ids["location:buergeramt-mitte"]}
    )
    assert (await chosen.json())["count_today"] == 2
    async with client.app[SESSIONS]() as session:
        locations = list(await session.scalars(select(Appointment.location_id).order_by(Appointment.id)))
    assert locations == [ids["location:buergeramt-neuenheim"], ids["location:buergeramt-mitte"]]


async def test_walk_in_refusals(client):
    ids = await catalog_ids(client)
    await sign_in_demo(client, "clerk")
    response = await post_json(
        client,
        "/api/clerk/walk-ins",
        {"concern_id": ids["concern:an-ummeldung"], "location_id": ids["location:bv-video"]},
    )
    assert response.status == 404
    assert (await response.json())["error"]["code"] == "location_not_found"
    response = await post_json(client, "/api/clerk/walk-ins", {"concern_id": 999_999})
    assert response.status == 404
    assert (await response.json())["error"] == {
        "code": "concern_not_found",
        "message": "Dieses Anliegen gibt es nicht oder es wird hier nicht angeboten.",
        "fields": {},
    }
    response = await post_json(client, "/api/clerk/walk-ins", {"concern_id": "x"})
    assert response.status == 422
    assert "concern_id" in (await response.json())["error"]["fields"]


async def test_support_staff_cannot_use_the_desk(client):
    await sign_in_demo(client, "support")
    response = await client.get("/api/clerk/day")
    assert response.status == 403
    assert (await response.json())["error"]["code"] == "role_forbidden"


async def test_an_abandoned_call_shows_in_the_day_and_takes_its_outcome_afterwards(client):
    day = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    abandoned = await insert_appointment(client, reference="VB-ABANDN", start=day, status="abandoned")
    running = await insert_appointment(client, reference="VB-RUNNIN", start=day, status="in_call")
    care = await insert_appointment(
        client, reference="VB-PFLEGE", start=day, unit="pflegestuetzpunkt", concern="pflegeberatung", status="abandoned"
    )
    await sign_in(client, None, "s.berger", DEMO_PASSWORDS["s.berger"])
    listed = await (await client.get("/api/clerk/day", params={"date": "2026-12-01"})).json()
    assert {a["id"]: a["status"] for a in listed["appointments"]} == {abandoned: "abandoned", running: "in_call"}

    path = f"/api/clerk/appointments/{abandoned}/outcome"
    bad = await post_json(client, path, {"outcome": "whatever"})
    assert (bad.status, (await bad.json())["error"]["code"]) == (422, "validation_failed")
    recorded = await post_json(client, path, {"outcome": "on_site_needed"})
    assert recorded.status == 200, await recorded.text()
    assert await recorded.json() == {"id": abandoned, "status": "completed", "outcome": "on_site_needed"}
    again = await post_json(client, path, {"outcome": "no_show"})
    assert (again.status, (await again.json())["error"]["code"]) == (409, "status_conflict")
    still_running = await post_json(client, f"/api/clerk/appointments/{running}/outcome", {"outcome": "completed"})
    assert (still_running.status, (await still_running.json())["error"]["code"]) == (409, "status_conflict")
    for hidden in (f"/api/clerk/appointments/{care}/outcome", "/api/clerk/appointments/x1/outcome"):
        missing = await post_json(client, hidden, {"outcome": "completed"})
        assert (missing.status, (await missing.json())["error"]["code"]) == (404, "not_found"), hidden
    async with client.app[SESSIONS]() as session:
        row = await session.get(Appointment, abandoned)
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "call.outcome_recorded"))
    assert row is not None and (row.status, row.outcome) == ("completed", "on_site_needed")
    assert entry is not None and entry.details == {"outcome": "on_site_needed"}
