"""`python run.py admin ...`: staff accounts, concerns, opening hours, closures and capacity.

Every change is written to the audit log with the actor "admin-cli". Errors print one line to
stderr and exit with status 2. The async core `run_admin` is what tests call.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import itertools
import re
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, TextIO

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from vibue import audit, passwords, staff_sessions, totp
from vibue.clock import Clock, SystemClock
from vibue.db import make_engine, make_sessionmaker, migrate
from vibue.models import ROLES, Capacity, Closure, Concern, Location, OpeningHours, ServiceUnit, Staff
from vibue.settings import Settings

ACTOR = "admin-cli"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_NAMES = {
    name: day
    for names in (
        WEEKDAYS,
        ("mo", "di", "mi", "do", "fr", "sa", "so"),
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
        ("montag", "dienstag", "mittwoch", "donnerstag", "freitag", "samstag", "sonntag"),
    )
    for day, name in enumerate(names)
}
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,59}$")
INTERVAL = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")
MIN_PASSWORD = 12


class CliError(Exception):
    """A refusal with a message for the operator."""


@dataclass
class Context:
    session: AsyncSession
    args: argparse.Namespace
    now: datetime
    out: TextIO
    stdin: TextIO

    def say(self, text: str) -> None:
        print(text, file=self.out)

    def audit(self, action: str, subject: str, **details: Any) -> None:
        audit.record(session=self.session, at=self.now, actor=ACTOR, action=action, subject=subject, **details)


Command = Callable[[Context], Awaitable[None]]


# --- parsing helpers ---


def parse_weekday(text: str) -> int:
    value = text.strip().lower()
    if value.isdigit() and 0 <= int(value) <= 6:
        return int(value)
    if value in WEEKDAY_NAMES:
        return WEEKDAY_NAMES[value]
    raise CliError(f"unknown weekday {text!r}: use 0-6 (0 = Monday), mon..sun or mo..so")


def parse_interval(text: str) -> tuple[time, time]:
    match = INTERVAL.match(text.strip())
    if not match:
        raise CliError(f"interval {text!r} is not HH:MM-HH:MM")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise CliError(f"interval {text!r} has an impossible time")
    opens, closes = time(h1, m1), time(h2, m2)
    if opens >= closes:
        raise CliError(f"interval {text!r} ends before it starts")
    return opens, closes


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CliError(f"date {text!r} is not YYYY-MM-DD") from None


def overlaps(a: tuple[time, time], b: tuple[time, time]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def hhmm(moment: time) -> str:
    return moment.strftime("%H:%M")


# --- lookups ---


async def get_staff(ctx: Context, username: str) -> Staff:
    staff = await ctx.session.scalar(select(Staff).where(func.lower(Staff.username) == username.strip().lower()))
    if staff is None:
        raise CliError(f"no staff member {username!r}")
    return staff


async def get_concern(ctx: Context, slug: str) -> Concern:
    concern = await ctx.session.scalar(select(Concern).where(Concern.slug == slug))
    if concern is None:
        raise CliError(f"no concern {slug!r} (see: concerns list)")
    return concern


async def get_location(ctx: Context, slug: str) -> Location:
    location = await ctx.session.scalar(select(Location).where(Location.slug == slug))
    if location is None:
        slugs = ", ".join(await ctx.session.scalars(select(Location.slug).order_by(Location.slug)))
        raise CliError(f"no location {slug!r} (known: {slugs or 'none'})")
    return location


async def get_unit(ctx: Context, slug: str) -> ServiceUnit:
    unit = await ctx.session.scalar(select(ServiceUnit).where(ServiceUnit.slug == slug))
    if unit is None:
        slugs = ", ".join(await ctx.session.scalars(select(ServiceUnit.slug).order_by(ServiceUnit.slug)))
        raise CliError(f"no service unit {slug!r} (known: {slugs or 'none'})")
    return unit


# --- staff ---


def read_password(ctx: Context) -> str:
    if ctx.args.password_stdin:
        password = ctx.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat password: ") != password:
            raise CliError("the passwords differ")
    if not MIN_PASSWORD <= len(password) <= 200:
        raise CliError(f"the password needs {MIN_PASSWORD} to 200 characters")
    return password


async def staff_list(ctx: Context) -> None:
    now = ctx.now
    ctx.say(f"{'username':24} {'role':8} {'active':6} {'totp':8} {'locked':6} name")
    for s in await ctx.session.scalars(select(Staff).order_by(Staff.username)):
        locked = "yes" if s.locked_until is not None and s.locked_until > now else "no"
        enrolled = "enrolled" if s.totp_enrolled else "pending"
        ctx.say(f"{s.username:24} {s.role:8} {'yes' if s.active else 'no':6} {enrolled:8} {locked:6} {s.display_name}")


async def staff_add(ctx: Context) -> None:
    username = ctx.args.username.strip().lower()
    if not USERNAME.match(username):
        raise CliError("user names are 2-60 characters: lower-case letters, digits, '.', '_' or '-'")
    if await ctx.session.scalar(select(Staff.id).where(func.lower(Staff.username) == username)):
        raise CliError(f"staff member {username!r} exists already")
    name = ctx.args.name.strip()
    if not 1 <= len(name) <= 120:
        raise CliError("--name needs 1 to 120 characters")
    password_hash = await passwords.hash_password(read_password(ctx))
    staff = Staff(
        username=username,
        display_name=name,
        role=ctx.args.role,
        password_hash=password_hash,
        totp_secret=totp.new_secret(),
        totp_enrolled=False,
        created_at=ctx.now,
    )
    ctx.session.add(staff)
    await ctx.session.flush()
    ctx.audit("staff.created", f"staff:{staff.id}", role=staff.role)
    ctx.say(f"added {username} ({staff.role}); the first sign-in sets up the authenticator app")


async def staff_deactivate(ctx: Context) -> None:
    staff = await get_staff(ctx, ctx.args.username)
    staff.active = False
    await staff_sessions.close_all(session=ctx.session, staff_id=staff.id)
    ctx.audit("staff.deactivated", f"staff:{staff.id}")
    ctx.say(f"deactivated {staff.username} and ended their sessions")


async def staff_reset_totp(ctx: Context) -> None:
    staff = await get_staff(ctx, ctx.args.username)
    staff.totp_secret = totp.new_secret()
    staff.totp_enrolled = False
    await staff_sessions.close_all(session=ctx.session, staff_id=staff.id)
    ctx.audit("staff.totp_reset", f"staff:{staff.id}")
    ctx.say(f"{staff.username} sets up a new authenticator at the next sign-in; their sessions were ended")


async def staff_unlock(ctx: Context) -> None:
    staff = await get_staff(ctx, ctx.args.username)
    staff.locked_until = None
    staff.failed_attempts = 0
    ctx.audit("staff.unlocked", f"staff:{staff.id}")
    ctx.say(f"unlocked {staff.username}")


# --- concerns ---


async def concerns_list(ctx: Context) -> None:
    ctx.say(f"{'slug':32} {'minutes':7} {'active':6} {'channels':15} name")
    for c in await ctx.session.scalars(select(Concern).order_by(Concern.sort_order, Concern.id)):
        channels = ",".join(c.channels)
        ctx.say(f"{c.slug:32} {c.duration_minutes:7} {'yes' if c.active else 'no':6} {channels:15} {c.name_de}")


async def concerns_set_duration(ctx: Context) -> None:
    concern = await get_concern(ctx, ctx.args.slug)
    minutes = ctx.args.minutes
    if not 5 <= minutes <= 480:
        raise CliError("a concern takes 5 to 480 minutes")
    before, concern.duration_minutes = concern.duration_minutes, minutes
    ctx.audit("concern.duration_set", f"concern:{concern.id}", before=before, after=minutes)
    ctx.say(f"{concern.slug} now takes {minutes} minutes (existing appointments keep their times)")


async def concerns_deactivate(ctx: Context) -> None:
    concern = await get_concern(ctx, ctx.args.slug)
    concern.active = False
    ctx.audit("concern.deactivated", f"concern:{concern.id}")
    ctx.say(f"{concern.slug} is no longer offered (existing appointments stay)")


# --- opening hours and closures ---


async def hours_list(ctx: Context) -> None:
    location = await get_location(ctx, ctx.args.location)
    rows = await ctx.session.scalars(
        select(OpeningHours)
        .where(OpeningHours.location_id == location.id)
        .order_by(OpeningHours.weekday, OpeningHours.opens)
    )
    by_day: dict[int, list[str]] = {}
    for row in rows:
        by_day.setdefault(row.weekday, []).append(f"{hhmm(row.opens)}-{hhmm(row.closes)}")
    for day, name in enumerate(WEEKDAYS):
        ctx.say(f"{name}  {' '.join(by_day.get(day, [])) or 'closed'}")


async def hours_set(ctx: Context) -> None:
    location = await get_location(ctx, ctx.args.location)
    weekday = parse_weekday(ctx.args.weekday)
    raw: list[str] = ctx.args.intervals
    intervals = [] if raw == ["closed"] else sorted(parse_interval(text) for text in raw)
    for first, second in itertools.pairwise(intervals):
        if overlaps(first, second):
            raise CliError("the intervals overlap")
    existing = await ctx.session.scalars(
        select(OpeningHours).where(OpeningHours.location_id == location.id, OpeningHours.weekday == weekday)
    )
    for row in existing:
        await ctx.session.delete(row)
    for opens, closes in intervals:
        ctx.session.add(OpeningHours(location_id=location.id, weekday=weekday, opens=opens, closes=closes))
    text = [f"{hhmm(a)}-{hhmm(b)}" for a, b in intervals]
    ctx.audit("hours.set", f"location:{location.id}", weekday=weekday, intervals=text)
    ctx.say(f"{location.slug} {WEEKDAYS[weekday]}: {' '.join(text) or 'closed'}")


async def closures_add(ctx: Context) -> None:
    location = await get_location(ctx, ctx.args.location)
    first = parse_day(ctx.args.first)
    last = parse_day(ctx.args.last) if ctx.args.last else first
    if last < first:
        raise CliError("the last day lies before the first")
    clash = await ctx.session.scalar(
        select(Closure).where(Closure.location_id == location.id, Closure.first_day <= last, Closure.last_day >= first)
    )
    if clash is not None:
        raise CliError(f"overlaps the closure {clash.first_day}..{clash.last_day} ({clash.reason or 'no reason'})")
    reason = ctx.args.reason.strip()[:200]
    ctx.session.add(Closure(location_id=location.id, first_day=first, last_day=last, reason=reason))
    ctx.audit("closure.added", f"location:{location.id}", first_day=first.isoformat(), last_day=last.isoformat())
    ctx.say(f"{location.slug} closed {first}..{last}; appointments already booked then are not cancelled")


async def closures_list(ctx: Context) -> None:
    location = await get_location(ctx, ctx.args.location)
    rows = await ctx.session.scalars(
        select(Closure).where(Closure.location_id == location.id).order_by(Closure.first_day)
    )
    for row in rows:
        ctx.say(f"{row.first_day}  {row.last_day}  {row.reason}")


async def closures_remove(ctx: Context) -> None:
    location = await get_location(ctx, ctx.args.location)
    first = parse_day(ctx.args.first)
    row = await ctx.session.scalar(
        select(Closure).where(Closure.location_id == location.id, Closure.first_day == first)
    )
    if row is None:
        raise CliError(f"{location.slug} has no closure starting on {first}")
    await ctx.session.delete(row)
    ctx.audit("closure.removed", f"location:{location.id}", first_day=first.isoformat())
    ctx.say(f"removed the closure of {location.slug} from {first}")


# --- capacity ---


async def capacity_list(ctx: Context) -> None:
    query = (
        select(Capacity, Staff.username, ServiceUnit.slug, Location.slug)
        .join(Staff, Staff.id == Capacity.staff_id)
        .join(ServiceUnit, ServiceUnit.id == Capacity.unit_id)
        .join(Location, Location.id == Capacity.location_id)
        .order_by(Staff.username, Capacity.weekday, Capacity.starts)
    )
    ctx.say(f"{'id':>5} {'username':20} {'unit':24} {'location':24} day interval")
    for shift, username, unit, location in (await ctx.session.execute(query)).all():
        interval = f"{hhmm(shift.starts)}-{hhmm(shift.ends)}"
        ctx.say(f"{shift.id:5} {username:20} {unit:24} {location:24} {WEEKDAYS[shift.weekday]} {interval}")


async def capacity_add(ctx: Context) -> None:
    staff = await get_staff(ctx, ctx.args.username)
    if not staff.active or staff.role not in ("clerk", "admin"):
        raise CliError(f"{staff.username} cannot serve citizens (role {staff.role}, active: {staff.active})")
    unit = await get_unit(ctx, ctx.args.unit)
    location = await get_location(ctx, ctx.args.location)
    weekday = parse_weekday(ctx.args.weekday)
    interval = parse_interval(ctx.args.interval)
    shifts = await ctx.session.scalars(
        select(Capacity).where(Capacity.staff_id == staff.id, Capacity.weekday == weekday)
    )
    for shift in shifts:
        if overlaps(interval, (shift.starts, shift.ends)):
            raise CliError(f"{staff.username} already has a shift {hhmm(shift.starts)}-{hhmm(shift.ends)} then")
    row = Capacity(
        staff_id=staff.id,
        unit_id=unit.id,
        location_id=location.id,
        weekday=weekday,
        starts=interval[0],
        ends=interval[1],
    )
    ctx.session.add(row)
    await ctx.session.flush()
    ctx.audit(
        "capacity.added",
        f"capacity:{row.id}",
        staff_id=staff.id,
        unit_id=unit.id,
        location_id=location.id,
        weekday=weekday,
        interval=f"{hhmm(interval[0])}-{hhmm(interval[1])}",
    )
    ctx.say(f"{staff.username} serves {unit.slug} at {location.slug} on {WEEKDAYS[weekday]} {ctx.args.interval}")


# --- the parser ---


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="run.py admin", description="Administer ViBü from the command line.")
    groups = parser.add_subparsers(dest="group", required=True, metavar="{staff,concerns,hours,closures,capacity}")

    def command(group: Any, name: str, func: Command, help: str) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = group.add_parser(name, help=help, description=help)
        sub.set_defaults(func=func)
        return sub

    staff = groups.add_parser("staff", help="staff accounts").add_subparsers(dest="command", required=True)
    command(staff, "list", staff_list, "list staff accounts")
    add = command(staff, "add", staff_add, "add a staff account (asks for the password)")
    add.add_argument("username")
    add.add_argument("--name", required=True, help="display name")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    for name, handler, text in (
        ("deactivate", staff_deactivate, "deactivate an account and end its sessions"),
        ("reset-totp", staff_reset_totp, "make the next sign-in set up a new authenticator"),
        ("unlock", staff_unlock, "lift a lockout after failed sign-ins"),
    ):
        command(staff, name, handler, text).add_argument("username")

    concerns = groups.add_parser("concerns", help="concerns (Anliegen)").add_subparsers(dest="command", required=True)
    command(concerns, "list", concerns_list, "list concerns")
    duration = command(concerns, "set-duration", concerns_set_duration, "set how long a concern takes")
    duration.add_argument("slug")
    duration.add_argument("minutes", type=int)
    command(concerns, "deactivate", concerns_deactivate, "stop offering a concern").add_argument("slug")

    hours = groups.add_parser("hours", help="opening hours").add_subparsers(dest="command", required=True)
    command(hours, "list", hours_list, "show a location's opening hours").add_argument("location")
    hours_set_parser = command(hours, "set", hours_set, "replace a weekday's opening hours")
    hours_set_parser.add_argument("location")
    hours_set_parser.add_argument("weekday", help="0-6 (0 = Monday), mon..sun or mo..so")
    hours_set_parser.add_argument("intervals", nargs="+", help="HH:MM-HH:MM ..., or the word closed")

    closures = groups.add_parser("closures", help="closure days").add_subparsers(dest="command", required=True)
    closures_add_parser = command(closures, "add", closures_add, "close a location for a day or a range of days")
    closures_add_parser.add_argument("location")
    closures_add_parser.add_argument("first", help="YYYY-MM-DD")
    closures_add_parser.add_argument("last", nargs="?", help="YYYY-MM-DD (default: the first day)")
    closures_add_parser.add_argument("--reason", default="", help="shown to nobody but staff")
    command(closures, "list", closures_list, "list a location's closures").add_argument("location")
    remove = command(closures, "remove", closures_remove, "remove the closure starting on a day")
    remove.add_argument("location")
    remove.add_argument("first", help="YYYY-MM-DD")

    capacity = groups.add_parser("capacity", help="who serves which unit when").add_subparsers(
        dest="command", required=True
    )
    command(capacity, "list", capacity_list, "list all shifts")
    capacity_add_parser = command(capacity, "add", capacity_add, "add a weekly shift")
    for name in ("username", "unit", "location", "weekday", "interval"):
        capacity_add_parser.add_argument(name)
    return parser


async def run_admin(
    argv: list[str],
    settings: Settings,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
    stdin: TextIO | None = None,
    clock: Clock | None = None,
) -> int:
    """Parse and run one admin command in its own unit of work; returns the exit status."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help or a usage error, already printed by argparse
        return exc.code if isinstance(exc.code, int) else 2
    engine = make_engine(settings.effective_database_url)
    try:
        await migrate(engine)
        async with make_sessionmaker(engine).begin() as session:
            now = (clock or SystemClock()).now()
            await args.func(Context(session=session, args=args, now=now, out=out, stdin=stdin or sys.stdin))
    except CliError as exc:
        print(f"error: {exc}", file=err)
        return 2
    finally:
        await engine.dispose()
    return 0


def admin_main(argv: list[str], settings: Settings) -> int:
    """Entry point for `python run.py admin ...`."""
    return asyncio.run(run_admin(argv, settings))
