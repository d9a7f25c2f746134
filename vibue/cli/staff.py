"""`admin staff ...`: accounts, roles, passwords, authenticators, lockouts."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select

from vibue.cli.common import AddCommand, CliError, Context, get_staff, hhmm, read_password
from vibue.models import ROLES, Capacity, Staff
from vibue.staff import passwords, totp
from vibue.staff import sessions as staff_sessions

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,59}$")
SERVING_ROLES = ("clerk", "admin")


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
    phone, email = ctx.args.phone.strip(), ctx.args.email.strip()
    if len(phone) > 40 or len(email) > 254 or (email and "@" not in email):
        raise CliError("--phone takes up to 40 characters, --email an address (printed on issued documents)")
    password_hash = await passwords.hash_password(read_password(ctx))
    staff = Staff(
        username=username,
        display_name=name,
        role=ctx.args.role,
        phone=phone,
        email=email,
        password_hash=password_hash,
        totp_secret=totp.new_secret(),
        totp_enrolled=False,
        created_at=ctx.now,
    )
    ctx.session.add(staff)
    await ctx.session.flush()
    ctx.audit("staff.created", f"staff:{staff.id}", role=staff.role)
    ctx.say(f"added {username} ({staff.role}); the first sign-in sets up the authenticator app")


async def staff_set_role(ctx: Context) -> None:
    staff = await get_staff(ctx, ctx.args.username)
    role: str = ctx.args.role
    if staff.role == role:
        raise CliError(f"{staff.username} is {role} already")
    if role not in SERVING_ROLES:
        shifts = await ctx.session.scalar(select(func.count(Capacity.id)).where(Capacity.staff_id == staff.id))
        if shifts:
            raise CliError(
                f"{staff.username} still has {shifts} shift(s) and a {role} cannot serve citizens: "
                f"remove them first (capacity list, capacity remove)"
            )
    before, staff.role = staff.role, role
    ctx.audit("staff.role_set", f"staff:{staff.id}", before=before, after=role)
    ctx.say(f"{staff.username} is now {role} (from their next request on)")


async def staff_reset_password(ctx: Context) -> None:
    staff = await get_staff(ctx, ctx.args.username)
    staff.password_hash = await passwords.hash_password(read_password(ctx))
    await staff_sessions.close_all(session=ctx.session, staff_id=staff.id)
    ctx.audit("staff.password_reset", f"staff:{staff.id}")
    ctx.say(f"set a new password for {staff.username} and ended their sessions")
    if staff.locked_until is not None and staff.locked_until > ctx.now:
        until = hhmm(staff.locked_until.time())
        ctx.say(f"note: {staff.username} stays locked until {until} UTC (staff unlock lifts it)")


async def staff_deactivate(ctx: Context) -> None:
    staff = await get_staff(ctx, ctx.args.username)
    staff.active = False
    await staff_sessions.close_all(session=ctx.session, staff_id=staff.id)
    ctx.audit("staff.deactivated", f"staff:{staff.id}")
    ctx.say(f"deactivated {staff.username} and ended their sessions; their shifts stay but offer no slots")


async def staff_reactivate(ctx: Context) -> None:
    staff = await get_staff(ctx, ctx.args.username)
    if staff.active:
        raise CliError(f"{staff.username} is active already")
    staff.active = True
    ctx.audit("staff.reactivated", f"staff:{staff.id}")
    ctx.say(f"reactivated {staff.username}; their shifts offer slots again")


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


def register(groups: Any, command: AddCommand) -> None:
    staff = groups.add_parser("staff", help="staff accounts").add_subparsers(dest="command", required=True)
    command(staff, "list", staff_list, "list staff accounts")
    add = command(staff, "add", staff_add, "add a staff account (asks for the password)")
    add.add_argument("username")
    add.add_argument("--name", required=True, help="display name")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--phone", default="", help="office telephone, printed on the documents they issue")
    add.add_argument("--email", default="", help="office email address, printed on the documents they issue")
    add.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    role = command(staff, "set-role", staff_set_role, "change an account's role")
    role.add_argument("username")
    role.add_argument("role", choices=ROLES)
    reset = command(staff, "reset-password", staff_reset_password, "set a new password and end open sessions")
    reset.add_argument("username")
    reset.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    for name, handler, text in (
        ("deactivate", staff_deactivate, "deactivate an account and end its sessions"),
        ("reactivate", staff_reactivate, "let a deactivated account sign in again"),
        ("reset-totp", staff_reset_totp, "make the next sign-in set up a new authenticator"),
        ("unlock", staff_unlock, "lift a lockout after failed sign-ins"),
    ):
        command(staff, name, handler, text).add_argument("username")
