"""`admin concerns ...`: what citizens can book (Anliegen), how long it takes, who handles it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from vibue.cli.common import AddCommand, CliError, Context, check_slug, check_text, get_concern, get_unit
from vibue.models import Concern, ServiceUnit

BOOKABLE_CHANNELS = ("video", "on_site")
MIN_MINUTES, MAX_MINUTES = 5, 480


def check_minutes(minutes: int) -> int:
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise CliError(f"a concern takes {MIN_MINUTES} to {MAX_MINUTES} minutes")
    return minutes


def parse_channels(text: str) -> list[str]:
    channels = list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [c for c in channels if c not in BOOKABLE_CHANNELS]
    if unknown or not channels:
        raise CliError(f"--channels takes a comma-separated list of {', '.join(BOOKABLE_CHANNELS)}")
    return channels


def check_checklist(items: list[str], *, option: str) -> list[str]:
    return [check_text(item, option=option, longest=300) for item in items]


def check_checklists(de: list[str], en: list[str]) -> None:
    if len(de) != len(en):
        raise CliError(
            f"the checklist has {len(de)} German and {len(en)} English items: give each item in both languages"
        )


async def units_of(ctx: Context, slugs: list[str]) -> list[ServiceUnit]:
    units: list[ServiceUnit] = []
    for slug in dict.fromkeys(slugs):
        units.append(await get_unit(ctx, slug))
    return units


async def concerns_list(ctx: Context) -> None:
    ctx.say(f"{'slug':32} {'minutes':7} {'active':6} {'channels':15} name")
    for c in await ctx.session.scalars(select(Concern).order_by(Concern.sort_order, Concern.id)):
        channels = ",".join(c.channels)
        ctx.say(f"{c.slug:32} {c.duration_minutes:7} {'yes' if c.active else 'no':6} {channels:15} {c.name_de}")


async def concerns_add(ctx: Context) -> None:
    args = ctx.args
    slug = check_slug(args.slug)
    if await ctx.session.scalar(select(Concern.id).where(Concern.slug == slug)):
        raise CliError(f"concern {slug!r} exists already (see: concerns edit)")
    check_de = check_checklist(args.check_de or [], option="--check-de")
    check_en = check_checklist(args.check_en or [], option="--check-en")
    check_checklists(check_de, check_en)
    last = await ctx.session.scalar(select(func.max(Concern.sort_order)))
    concern = Concern(
        slug=slug,
        name_de=check_text(args.name_de, option="--name-de", longest=160),
        name_en=check_text(args.name_en, option="--name-en", longest=160),
        duration_minutes=check_minutes(args.minutes),
        channels=parse_channels(args.channels),
        checklist_de=check_de,
        checklist_en=check_en,
        active=True,
        sort_order=(last or 0) + 1,
        units=await units_of(ctx, args.unit),
    )
    ctx.session.add(concern)
    await ctx.session.flush()
    ctx.audit("concern.created", f"concern:{concern.id}", units=[u.slug for u in concern.units])
    ctx.say(f"added {slug} ({concern.duration_minutes} minutes, {','.join(concern.channels)})")


async def concerns_edit(ctx: Context) -> None:
    args = ctx.args
    concern = await get_concern(ctx, args.slug)
    await ctx.session.refresh(concern, ["units"])
    changed: list[str] = []
    if args.name_de is not None:
        concern.name_de = check_text(args.name_de, option="--name-de", longest=160)
        changed.append("name_de")
    if args.name_en is not None:
        concern.name_en = check_text(args.name_en, option="--name-en", longest=160)
        changed.append("name_en")
    if args.minutes is not None:
        concern.duration_minutes = check_minutes(args.minutes)
        changed.append("duration_minutes")
    if args.channels is not None:
        concern.channels = parse_channels(args.channels)
        changed.append("channels")
    if args.check_de is not None:
        concern.checklist_de = check_checklist(args.check_de, option="--check-de")
        changed.append("checklist_de")
    if args.check_en is not None:
        concern.checklist_en = check_checklist(args.check_en, option="--check-en")
        changed.append("checklist_en")
    check_checklists(concern.checklist_de, concern.checklist_en)
    added = [u for u in await units_of(ctx, args.add_unit or []) if u not in concern.units]
    removed = await units_of(ctx, args.remove_unit or [])
    for unit in removed:
        if unit not in concern.units:
            raise CliError(f"{unit.slug} does not handle {concern.slug}")
    units = [u for u in concern.units if u not in removed] + added
    if not units:
        raise CliError(f"{concern.slug} needs at least one service unit")
    if added or removed:
        concern.units = units
        changed.append("units")
    if not changed:
        raise CliError("nothing to change: give at least one option (see: concerns edit --help)")
    ctx.audit(
        "concern.edited",
        f"concern:{concern.id}",
        changed=changed,
        units_added=[u.slug for u in added],
        units_removed=[u.slug for u in removed],
    )
    ctx.say(f"changed {', '.join(changed)} of {concern.slug} (existing appointments keep their times)")


async def concerns_set_duration(ctx: Context) -> None:
    concern = await get_concern(ctx, ctx.args.slug)
    minutes = check_minutes(ctx.args.minutes)
    before, concern.duration_minutes = concern.duration_minutes, minutes
    ctx.audit("concern.duration_set", f"concern:{concern.id}", before=before, after=minutes)
    ctx.say(f"{concern.slug} now takes {minutes} minutes (existing appointments keep their times)")


async def concerns_deactivate(ctx: Context) -> None:
    concern = await get_concern(ctx, ctx.args.slug)
    concern.active = False
    ctx.audit("concern.deactivated", f"concern:{concern.id}")
    ctx.say(f"{concern.slug} is no longer offered (existing appointments stay)")


async def concerns_activate(ctx: Context) -> None:
    concern = await get_concern(ctx, ctx.args.slug)
    if concern.active:
        raise CliError(f"{concern.slug} is offered already")
    concern.active = True
    ctx.audit("concern.activated", f"concern:{concern.id}")
    ctx.say(f"{concern.slug} is offered again")


def register(groups: Any, command: AddCommand) -> None:
    concerns = groups.add_parser("concerns", help="concerns (Anliegen)").add_subparsers(dest="command", required=True)
    command(concerns, "list", concerns_list, "list concerns")

    add = command(concerns, "add", concerns_add, "add a concern citizens can book")
    add.add_argument("slug", help="lower-case letters, digits and '-', e.g. meldebescheinigung")
    add.add_argument("--name-de", required=True)
    add.add_argument("--name-en", required=True)
    add.add_argument("--minutes", required=True, type=int, help=f"{MIN_MINUTES} to {MAX_MINUTES}")
    add.add_argument("--channels", required=True, help="comma-separated: video,on_site")
    add.add_argument("--unit", required=True, action="append", help="a service unit handling it (repeatable)")
    add.add_argument("--check-de", action="append", help="a checklist item in German (repeatable)")
    add.add_argument("--check-en", action="append", help="the same item in English (repeatable, same order)")

    edit = command(concerns, "edit", concerns_edit, "change a concern; options left out stay as they are")
    edit.add_argument("slug")
    edit.add_argument("--name-de")
    edit.add_argument("--name-en")
    edit.add_argument("--minutes", type=int, help=f"{MIN_MINUTES} to {MAX_MINUTES}")
    edit.add_argument("--channels", help="comma-separated: video,on_site")
    edit.add_argument("--add-unit", action="append", help="another service unit handling it (repeatable)")
    edit.add_argument("--remove-unit", action="append", help="a service unit no longer handling it (repeatable)")
    edit.add_argument("--check-de", action="append", help="replaces the German checklist (repeatable)")
    edit.add_argument("--check-en", action="append", help="replaces the English checklist (repeatable)")

    duration = command(concerns, "set-duration", concerns_set_duration, "set how long a concern takes")
    duration.add_argument("slug")
    duration.add_argument("minutes", type=int)
    command(concerns, "deactivate", concerns_deactivate, "stop offering a concern").add_argument("slug")
    command(concerns, "activate", concerns_activate, "offer a deactivated concern again").add_argument("slug")
