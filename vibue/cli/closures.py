"""`admin closures ...`: days a location is closed (holidays, training)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from vibue.cli.common import AddCommand, CliError, Context, get_location, parse_day
from vibue.models import Closure


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


def register(groups: Any, command: AddCommand) -> None:
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
