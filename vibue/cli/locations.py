"""`admin locations ...`: the places appointments happen (a video room or an office)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from vibue.cli.common import AddCommand, CliError, Context, check_slug, check_text
from vibue.models import Location

KINDS = ("virtual", "physical")


async def locations_list(ctx: Context) -> None:
    ctx.say(f"{'slug':28} {'kind':8} {'name':40} address")
    for loc in await ctx.session.scalars(select(Location).order_by(Location.slug)):
        ctx.say(f"{loc.slug:28} {loc.kind:8} {loc.name:40} {loc.address}")


async def locations_add(ctx: Context) -> None:
    slug = check_slug(ctx.args.slug)
    if await ctx.session.scalar(select(Location.id).where(Location.slug == slug)):
        raise CliError(f"location {slug!r} exists already")
    location = Location(
        slug=slug,
        name=check_text(ctx.args.name, option="--name", longest=160),
        kind=ctx.args.kind,
        address=check_text(ctx.args.address, option="--address", longest=300),
        # Optional: left empty, English pages show the German name and address.
        name_en=check_text(ctx.args.name_en, option="--name-en", longest=160) if ctx.args.name_en else "",
        address_en=check_text(ctx.args.address_en, option="--address-en", longest=300) if ctx.args.address_en else "",
        booking_version=0,
    )
    ctx.session.add(location)
    await ctx.session.flush()
    ctx.audit("location.created", f"location:{location.id}", kind=location.kind)
    ctx.say(f"added {slug} ({location.kind}); it stays closed until: hours set {slug} WEEKDAY HH:MM-HH:MM")


def register(groups: Any, command: AddCommand) -> None:
    locations = groups.add_parser("locations", help="locations (Standorte)").add_subparsers(
        dest="command", required=True
    )
    command(locations, "list", locations_list, "list locations")
    add = command(locations, "add", locations_add, "add a location")
    add.add_argument("slug", help="lower-case letters, digits and '-', e.g. buergeramt-sued")
    add.add_argument("--name", required=True, help="shown to citizens")
    add.add_argument("--kind", required=True, choices=KINDS, help="virtual hosts video calls, physical on-site visits")
    add.add_argument("--address", required=True, help="shown to citizens (for virtual: what they need)")
    add.add_argument("--name-en", default="", help="the name in English (default: the German name)")
    add.add_argument("--address-en", default="", help="the address in English (default: the German address)")
