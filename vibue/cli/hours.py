"""`admin hours ...`: a location's weekly opening hours."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy import select

from vibue.cli.common import (
    WEEKDAYS,
    AddCommand,
    CliError,
    Context,
    get_location,
    hhmm,
    overlaps,
    parse_interval,
    parse_weekday,
)
from vibue.models import OpeningHours


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


def register(groups: Any, command: AddCommand) -> None:
    hours = groups.add_parser("hours", help="opening hours").add_subparsers(dest="command", required=True)
    command(hours, "list", hours_list, "show a location's opening hours").add_argument("location")
    hours_set_parser = command(hours, "set", hours_set, "replace a weekday's opening hours")
    hours_set_parser.add_argument("location")
    hours_set_parser.add_argument("weekday", help="0-6 (0 = Monday), mon..sun or mo..so")
    hours_set_parser.add_argument("intervals", nargs="+", help="HH:MM-HH:MM ..., or the word closed")
