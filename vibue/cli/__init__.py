"""`python run.py admin ...`: staff accounts, concerns, locations, opening hours, closures and capacity.

Every change is written to the audit log with the actor "admin-cli". Errors print one line to
stderr and exit with status 2. The async core `run_admin` is what tests call; each noun has its
own module that registers its sub-commands.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any, TextIO

from vibue.cli import capacity, closures, concerns, hours, locations, staff
from vibue.cli.common import CliError, Command, Context, parse_interval, parse_weekday
from vibue.core.clock import Clock, SystemClock
from vibue.core.db import make_engine, make_sessionmaker, migrate
from vibue.core.settings import Settings

__all__ = ["CliError", "admin_main", "build_parser", "parse_interval", "parse_weekday", "run_admin"]

NOUNS = (staff, concerns, locations, hours, closures, capacity)


def _command(group: Any, name: str, func: Command, help: str) -> argparse.ArgumentParser:
    sub: argparse.ArgumentParser = group.add_parser(name, help=help, description=help)
    sub.set_defaults(func=func)
    return sub


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="run.py admin", description="Administer ViBü from the command line.")
    groups = parser.add_subparsers(
        dest="group", required=True, metavar="{" + ",".join(n.__name__.rsplit(".", 1)[-1] for n in NOUNS) + "}"
    )
    for noun in NOUNS:
        noun.register(groups, _command)
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
