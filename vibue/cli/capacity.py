"""`admin capacity ...`: weekly shifts, i.e. who serves which unit at which location when."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from vibue.cli.common import (
    WEEKDAYS,
    AddCommand,
    CliError,
    Context,
    get_location,
    get_staff,
    get_unit,
    hhmm,
    overlaps,
    parse_interval,
    parse_weekday,
)
from vibue.models import Capacity, Location, ServiceUnit, Staff


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


async def capacity_remove(ctx: Context) -> None:
    """Remove every shift of one person for one unit at one location on one weekday."""
    staff = await get_staff(ctx, ctx.args.username)
    unit = await get_unit(ctx, ctx.args.unit)
    location = await get_location(ctx, ctx.args.location)
    weekday = parse_weekday(ctx.args.weekday)
    shifts = list(
        await ctx.session.scalars(
            select(Capacity)
            .where(
                Capacity.staff_id == staff.id,
                Capacity.unit_id == unit.id,
                Capacity.location_id == location.id,
                Capacity.weekday == weekday,
            )
            .order_by(Capacity.starts)
        )
    )
    if not shifts:
        raise CliError(
            f"{staff.username} has no shift for {unit.slug} at {location.slug} on {WEEKDAYS[weekday]} "
            f"(see: capacity list)"
        )
    for shift in shifts:
        interval = f"{hhmm(shift.starts)}-{hhmm(shift.ends)}"
        ctx.audit(
            "capacity.removed",
            f"capacity:{shift.id}",
            staff_id=staff.id,
            unit_id=unit.id,
            location_id=location.id,
            weekday=weekday,
            interval=interval,
        )
        await ctx.session.delete(shift)
    intervals = " ".join(f"{hhmm(s.starts)}-{hhmm(s.ends)}" for s in shifts)
    ctx.say(
        f"removed {staff.username}'s {unit.slug} shift(s) at {location.slug} on {WEEKDAYS[weekday]} ({intervals}); "
        f"appointments already booked then stay"
    )


def register(groups: Any, command: AddCommand) -> None:
    capacity = groups.add_parser("capacity", help="who serves which unit when").add_subparsers(
        dest="command", required=True
    )
    command(capacity, "list", capacity_list, "list all shifts")
    capacity_add_parser = command(capacity, "add", capacity_add, "add a weekly shift")
    for name in ("username", "unit", "location", "weekday", "interval"):
        capacity_add_parser.add_argument(name)
    remove = command(
        capacity, "remove", capacity_remove, "remove a person's shifts for a unit and location on a weekday"
    )
    for name in ("username", "unit", "location", "weekday"):
        remove.add_argument(name)
