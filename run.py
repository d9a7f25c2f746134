"""Composition root: load settings, build the app, serve it (or run an admin command).

python run.py               serve (settings from VIBUE_* variables, see --help)
python run.py migrate       bring the database schema to the newest version and exit
python run.py admin ...     manage staff, concerns, opening hours and closures
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sys

from aiohttp import web

import signaling
from vibue.app import create_app
from vibue.compliance.policy import PolicyError
from vibue.core.db import make_engine, migrate
from vibue.core.settings import Settings, SettingsError, help_text, load

USAGE = __doc__ or ""


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # aiohttp's access log would record client addresses; we keep no IP addresses.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


async def migrate_only(settings: Settings) -> None:
    engine = make_engine(settings.effective_database_url)
    try:
        await migrate(engine)
    finally:
        await engine.dispose()


def main(argv: list[str]) -> int:
    if argv and argv[0] in {"-h", "--help", "help"}:
        print(USAGE)
        print(help_text())
        return 0
    try:
        settings = load()
    except SettingsError as exc:
        print(f"vibue: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    if argv and argv[0] == "migrate":
        asyncio.run(migrate_only(settings))
        print("database is at the newest schema")
        return 0
    if argv and argv[0] == "admin":
        from vibue.cli import admin_main

        return admin_main(argv[1:], settings)
    if argv:
        print(f"vibue: unknown command {argv[0]!r}\n{USAGE}", file=sys.stderr)
        return 2
    try:
        app = create_app(settings, setups=[signaling.setup])
    except PolicyError as exc:
        print(f"vibue: refusing to start, the recording policy is invalid: {exc}", file=sys.stderr)
        return 2
    # Everything built so far lives as long as the process: keep it out of the garbage collector's
    # full passes, which otherwise pause the event loop for ~100 ms under load (bench/signaling.py).
    gc.freeze()
    print(f"ViBü serves on http://{settings.host}:{settings.port} ({settings.mode} mode)", flush=True)
    web.run_app(app, host=settings.host, port=settings.port, print=None, access_log=None)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
