"""The booking API, step by step, on SQLite and PostgreSQL, with mail through a real SMTP server."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import update

from tests.booking_flow import free_starts, get_json, offer, reservation, reserve, slots, token_from_mail
from tests.helpers import post_json
from tests.smtp import MailCatcher, links, text_body
from vibue.core.clock import ManualClock
from vibue.models import Concern
from vibue.web.appkeys import SESSIONS

MONDAY_8 = "2026-11-30T08:00:00+01:00"
MONDAY_815 = "2026-11-30T08:15:00+01:00"
MONDAY_10 = "2026-11-30T10:00:00+01:00"


async def test_steps_one_to_three_offer_the_heidelberg_catalog(client: TestClient[Any, Any]) -> None:
    units = (await get_json(client, "/api/units"))["units"]
    assert [u["name"] for u in units][:2] == ["Bürgeramt Virtuell", "Bürgeramt vor Ort"]
    assert {u["slug"] for u in units} >= {"pflegestuetzpunkt", "rentenstelle", "mobilitaet-teilhabe"}
    virtual = units[0]["id"]
    concerns = (await get_json(client, f"/api/units/{virtual}/concerns"))["concerns"]
    names = [c["name"] for c in concerns]
    for expected in (
        "An- und Ummeldung innerhalb Heidelbergs",
        "Führungszeugnis",
        "Landesfamilienpass",
        "Einzahlungen",
    ):
        assert expected in names
    registration = concerns[0]
    assert registration["duration_minutes"] == 15
    assert "Personalausweis oder Reisepass" in registration["checklist"]
    locations = (await get_json(client, f"/api/units/{virtual}/concerns/{registration['id']}/locations"))["locations"]
    assert [(loc["slug"], loc["channel"]) for loc in locations] == [("bv-video", "video")]
    on_site = units[1]["id"]
    on_site_concern = (await get_json(client, f"/api/units/{on_site}/concerns"))["concerns"][0]["id"]
    places = (await get_json(client, f"/api/units/{on_site}/concerns/{on_site_concern}/locations"))["locations"]
    assert {loc["slug"] for loc in places} == {"buergeramt-mitte", "buergeramt-neuenheim"}


async def test_english_names_follow_the_language_cookie(
    client: TestClient[Any, Any], mail_catcher: MailCatcher
) -> None:
    client.session.cookie_jar.update_cookies({"vibue_lang": "en"})
    units = (await get_json(client, "/api/units"))["units"]
    assert units[0]["name"] == "Virtual Citizens' Office"
    # The location too, and the booking's own page, whatever language it was booked in.
    o = await offer(client)
    path = f"/api/units/{o.unit_id}/concerns/{o.concern_id}/locations"
    location = (await get_json(client, path))["locations"][0]
    assert (location["name"], location["address"]) == (
        "Virtual Citizens' Office",
        "Online – you need a device with a camera and a microphone",
    )
    client.session.cookie_jar.update_cookies({"vibue_lang": "de"})
    await reserve(client, o, MONDAY_8)
    token = await token_from_mail(mail_catcher, "erika@example.org")
    client.session.cookie_jar.update_cookies({"vibue_lang": "en"})
    booking = await get_json(client, f"/api/bookings/{token}")
    assert (booking["location"]["name"], booking["concern"]["name"]) == (
        "Virtual Citizens' Office",
        "Registration of address within Heidelberg",
    )


async def test_slots_offer_the_next_free_slot_first_and_respect_closures(client: TestClient[Any, Any]) -> None:
    o = await offer(client)
    answer = await slots(client, o)
    # The clock says Monday 07:00; bookings need an hour's lead, the virtual office opens at 08:00.
    assert answer["next_free"]["start"] == MONDAY_8
    assert answer["days"][0]["date"] == "2026-11-30"
    assert answer["days"][0]["slots"][0]["start"] == MONDAY_8
    assert len(answer["days"]) == 7
    saturday = answer["days"][5]
    assert saturday["date"] == "2026-12-05" and saturday["slots"] == []
    # Closed (no opening hours, or a closure) is told apart from booked out: "geschlossen", not "ausgebucht".
    assert [day["open"] for day in answer["days"]] == [True, True, True, True, True, False, False]
    christmas = await slots(client, o, first_day="2026-12-24", days=3)
    assert [day["slots"] for day in christmas["days"]] == [[], [], []]
    assert [day["open"] for day in christmas["days"]] == [False, False, False]


async def test_book_confirm_cancel_through_the_mail_links(
    client: TestClient[Any, Any], mail_catcher: MailCatcher
) -> None:
    o = await offer(client)
    reserved = await reserve(client, o, MONDAY_8)
    assert reserved["status"] == "reserved"
    assert reserved["reference"].startswith("VB-")
    assert MONDAY_8 not in free_starts(await slots(client, o))

    token = await token_from_mail(mail_catcher, "erika@example.org")
    mail = mail_catcher.inbox[0]
    assert reserved["reference"] in str(mail["Subject"])
    assert "Personalausweis oder Reisepass" in text_body(mail)
    assert any(part.get_content_type() == "text/calendar" for part in mail.iter_attachments())

    booking = await get_json(client, f"/api/bookings/{token}")
    assert (booking["status"], booking["channel"]) == ("reserved", "video")
    assert booking["join_url"]

    confirmed = await post_json(client, f"/api/bookings/{token}/confirm")
    assert confirmed.status == 200
    assert (await confirmed.json())["status"] == "confirmed"
    confirmation = (await mail_catcher.receive("erika@example.org", count=2))[1]
    assert "bestätigt" in str(confirmation["Subject"])

    cancelled = await post_json(client, f"/api/bookings/{token}/cancel")
    assert (await cancelled.json())["status"] == "cancelled"
    await mail_catcher.receive("erika@example.org", count=3)
    assert MONDAY_8 in free_starts(await slots(client, o)), "a cancelled slot is bookable at once"
    again = await reserve(client, o, MONDAY_8, email="max@example.org")
    assert again["status"] == "reserved"


async def test_unconfirmed_reservations_release_their_slot(
    client: TestClient[Any, Any], clock: ManualClock, mail_catcher: MailCatcher
) -> None:
    o = await offer(client)
    await reserve(client, o, MONDAY_10)
    token = await token_from_mail(mail_catcher, "erika@example.org")
    clock.advance(minutes=14)
    assert MONDAY_10 not in free_starts(await slots(client, o))
    clock.advance(minutes=2)
    assert MONDAY_10 in free_starts(await slots(client, o))
    late = await post_json(client, f"/api/bookings/{token}/confirm")
    assert late.status == 409
    assert (await late.json())["error"]["code"] == "reservation_expired"


async def test_reschedule_moves_the_booking_and_frees_the_old_slot(
    client: TestClient[Any, Any], mail_catcher: MailCatcher
) -> None:
    o = await offer(client)
    await reserve(client, o, MONDAY_8)
    token = await token_from_mail(mail_catcher, "erika@example.org")
    await post_json(client, f"/api/bookings/{token}/confirm")
    moved = await post_json(client, f"/api/bookings/{token}/reschedule", {"start": MONDAY_815})
    assert moved.status == 200, await moved.text()
    assert (await moved.json())["start"] == MONDAY_815
    free = free_starts(await slots(client, o))
    assert MONDAY_8 in free and MONDAY_815 not in free
    mails = await mail_catcher.receive("erika@example.org", count=3)
    assert "verschoben" in str(mails[2]["Subject"]).lower()


async def test_one_open_booking_per_email_and_concern(client: TestClient[Any, Any]) -> None:
    o = await offer(client)
    await reserve(client, o, MONDAY_8)
    second = await post_json(client, "/api/reservations", reservation(o, MONDAY_815, email="ERIKA@example.org"))
    assert second.status == 409
    assert (await second.json())["error"]["code"] == "open_booking_exists"
    other = await offer(client, concern="fuehrungszeugnis")
    third = await post_json(client, "/api/reservations", reservation(other, "2026-11-30T09:00:00+01:00"))
    assert third.status == 201


async def test_slot_conflicts_are_explained(client: TestClient[Any, Any]) -> None:
    o = await offer(client)
    await reserve(client, o, MONDAY_8)
    taken = await post_json(client, "/api/reservations", reservation(o, MONDAY_8, email="max@example.org"))
    assert (taken.status, (await taken.json())["error"]["code"]) == (409, "slot_taken")
    for start in ("2026-11-30T08:07:00+01:00", "2026-11-30T06:00:00+01:00", "2026-12-05T09:00:00+01:00"):
        odd = await post_json(client, "/api/reservations", reservation(o, start, email="max@example.org"))
        assert (odd.status, (await odd.json())["error"]["code"]) == (409, "slot_unavailable"), start
    past = await post_json(client, "/api/reservations", reservation(o, "2026-11-30T07:15:00+01:00"))
    assert (await past.json())["error"]["code"] == "slot_unavailable"


async def test_rescheduling_an_unconfirmed_reservation_sends_a_new_confirm_link(
    client: TestClient[Any, Any], mail_catcher: MailCatcher
) -> None:
    o = await offer(client)
    await reserve(client, o, MONDAY_8)
    token = await token_from_mail(mail_catcher, "erika@example.org")
    moved = await post_json(client, f"/api/bookings/{token}/reschedule", {"start": MONDAY_815})
    assert (await moved.json())["status"] == "reserved"
    mail = (await mail_catcher.receive("erika@example.org", count=2))[1]
    assert "bestätigen" in str(mail["Subject"]).lower()
    assert any("aktion=bestaetigen" in link for link in links(mail))
    confirmed = await post_json(client, f"/api/bookings/{token}/confirm")
    assert (await confirmed.json())["start"] == MONDAY_815


async def test_reschedule_mail_names_the_old_time_and_cancel_mail_offers_to_book_again(
    client: TestClient[Any, Any], mail_catcher: MailCatcher
) -> None:
    o = await offer(client)
    await reserve(client, o, MONDAY_8)
    token = await token_from_mail(mail_catcher, "erika@example.org")
    await post_json(client, f"/api/bookings/{token}/confirm")
    await post_json(client, f"/api/bookings/{token}/reschedule", {"start": MONDAY_815})
    moved = (await mail_catcher.receive("erika@example.org", count=3))[2]
    assert "08:00" in text_body(moved) and "08:15" in text_body(moved)
    await post_json(client, f"/api/bookings/{token}/cancel")
    cancelled = (await mail_catcher.receive("erika@example.org", count=4))[3]
    assert any(link.endswith("/buchen") for link in links(cancelled))


async def test_english_booking_without_english_texts_gets_the_german_ones_by_mail(
    client: TestClient[Any, Any], mail_catcher: MailCatcher
) -> None:
    # The mail follows the same rule as the pages (vibue.core.i18n.localized): English where the
    # concern has English texts, German where they are empty, never a blank line.
    o = await offer(client)
    async with client.app[SESSIONS].begin() as session:
        await session.execute(update(Concern).where(Concern.id == o.concern_id).values(name_en="", checklist_en=[]))
    response = await post_json(client, "/api/reservations", reservation(o, MONDAY_8, lang="en"))
    assert response.status == 201, await response.text()
    await token_from_mail(mail_catcher, "erika@example.org")
    body = text_body(mail_catcher.inbox[0])
    assert "Service: An- und Ummeldung innerhalb Heidelbergs" in body.splitlines()
    assert "Please have ready:" in body.splitlines()
    assert "- Personalausweis oder Reisepass" in body.splitlines()


async def test_an_umlaut_domain_can_book_and_gets_its_mail_in_idna_form(
    client: TestClient[Any, Any], mail_catcher: MailCatcher
) -> None:
    o = await offer(client)
    reserved = await reserve(client, o, MONDAY_8, email="Erika@Exämple.org")
    assert reserved["status"] == "reserved"
    # The envelope and the To header carry the domain's IDNA (xn--) form, the booking shows it as typed.
    token = await token_from_mail(mail_catcher, "erika@xn--exmple-cua.org")
    booking = await get_json(client, f"/api/bookings/{token}")
    assert booking["citizen"]["email"] == "erika@exämple.org"


async def test_an_invalid_international_domain_is_a_field_message(client: TestClient[Any, Any]) -> None:
    o = await offer(client)
    response = await post_json(client, "/api/reservations", reservation(o, MONDAY_8, email="a@äb--c.de"))
    assert response.status == 422
    body = await response.json()
    assert body["error"]["fields"]["email"].startswith("Bitte geben Sie eine gültige E-Mail-Adresse an")
