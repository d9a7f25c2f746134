"""Composition root: load settings, build the app, serve it (or run an admin command).

python run.py               serve (settings from VIBUE_* variables, see --help)
python run.py migrate       bring the database schema to the newest version and exit
python run.py admin ...     manage staff, concerns, opening hours and closures
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import sys
from collections.abc import Callable

from aiohttp import web

import documents
import signaling
from vibue.app import create_app
from vibue.compliance.policy import PolicyError
from vibue.core.db import make_engine, migrate
from vibue.core.logs import install_redaction
from vibue.core.settings import Settings, SettingsError, help_text, load
from vibue.web.serving import AppRunner

USAGE = __doc__ or ""


def configure_logging(level: str) -> Callable[[], None]:
    """Log to stderr at `level`, every line redacted; returns the undo of the redaction (for tests)."""
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # aiohttp's access log would record client addresses; we keep no IP addresses.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # No log line may hold a cookie, a link or join token, a code, an email or an IP address.
    return install_redaction()


async def serve(app: web.Application, settings: Settings) -> None:
    """Serve until SIGINT or SIGTERM (web.run_app's job, with our runner: see vibue.web.serving)."""
    runner = AppRunner(app, handle_signals=True, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.host, settings.port).start()
        # What the start built (migrations, demo data, the PKI and sealer, compiled queries) lives
        # as long as the process too: out of the collector's full passes as well (see main()).
        gc.freeze()
        print(f"ViBü serves on http://{settings.host}:{settings.port} ({settings.mode} mode)", flush=True)
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


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
        app = create_app(settings, setups=[signaling.setup, documents.setup])
    except PolicyError as exc:
        print(f"vibue: refusing to start, the recording policy is invalid: {exc}", file=sys.stderr)
        return 2
    # Everything built so far lives as long as the process: keep it out of the garbage collector's
    # full passes, which otherwise pause the event loop for ~100 ms under load (bench/signaling.py).
    gc.freeze()
    print("ViBü starts: migrating the database, then the demo data if it is empty …", flush=True)
    # The signal handlers raise GracefulExit (a SystemExit) out of the loop; serve()'s finally cleans up.
    with contextlib.suppress(web.GracefulExit, KeyboardInterrupt):
        asyncio.run(serve(app, settings))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
