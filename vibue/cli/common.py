"""What every admin command shares: the context, the refusal, parsing helpers and lookups."""

from __future__ import annotations

import argparse
import getpass
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, Protocol, TextIO

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from vibue.core import audit
from vibue.models import Concern, Location, ServiceUnit, Staff

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
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,59}$")
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


class AddCommand(Protocol):
    """Adds one sub-command with its handler to a noun's sub-parsers; see `vibue.cli.build_parser`."""

    def __call__(self, group: Any, name: str, func: Command, help: str) -> argparse.ArgumentParser: ...


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


def check_slug(text: str) -> str:
    slug = text.strip()
    if not SLUG.match(slug):
        raise CliError(f"slug {text!r} must be 2-60 characters: lower-case letters, digits or '-'")
    return slug


def check_text(text: str, *, option: str, longest: int) -> str:
    value = text.strip()
    if not 1 <= len(value) <= longest:
        raise CliError(f"{option} needs 1 to {longest} characters")
    return value


def overlaps(a: tuple[time, time], b: tuple[time, time]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def hhmm(moment: time) -> str:
    return moment.strftime("%H:%M")


def read_password(ctx: Context) -> str:
    """The new password from stdin's first line (--password-stdin) or typed twice at a prompt."""
    if ctx.args.password_stdin:
        password = ctx.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat password: ") != password:
            raise CliError("the passwords differ")
    if not MIN_PASSWORD <= len(password) <= 200:
        raise CliError(f"the password needs {MIN_PASSWORD} to 200 characters")
    return password


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
