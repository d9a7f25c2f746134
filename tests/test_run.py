"""`python run.py` as `make run` starts it: migrates, seeds the demo, serves the pages and the API."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

from vibue.core.paths import ROOT


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fetch(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback only)
        return response.status, response.read().decode()


def test_run_py_serves_the_booking_flow_on_the_embedded_defaults(tmp_path: Path) -> None:
    assert_serves(sys.executable, tmp_path)


def test_make_runs_runtime_requirements_alone_are_enough(tmp_path: Path) -> None:
    """`make run` installs requirements.txt only; the test tools must not be what makes it work.

    (SQLAlchemy 2.1 no longer brings greenlet unless asked for its asyncio extra; Playwright,
    a test tool, brought it, so the suite passed while `make run` on a fresh machine failed.)
    """
    venv = tmp_path / "venv"
    subprocess.run(
        ["make", "--no-print-directory", f"VENV={venv}", f"{venv}/.run-deps"],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
        timeout=600,
    )
    assert_serves(str(venv / "bin" / "python"), tmp_path)


def assert_serves(python: str, tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "VIBUE_DATA_DIR": str(tmp_path / "var"), "VIBUE_PORT": str(port), "PYTHONPATH": str(ROOT)}
    env.pop("VIBUE_DATABASE_URL", None)
    server = subprocess.Popen(
        [python, "run.py"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        assert server.stdout is not None
        output: list[str] = []
        while not (output and "ViBü serves on" in output[-1]):
            line = server.stdout.readline()  # run.py's own lines and its log, in order
            assert line, f"run.py exited before it said it serves: {output}"
            output.append(line)
        said = "".join(output)
        # Progress while migrating and seeding, and "serves on" only once it is true: the port
        # answers at the first try after the line, not seconds later.
        assert said.index("migrating the database schema") < said.index("seeding the demo catalog")
        assert said.index("seeded the demo catalog") < said.index("ViBü serves on")
        status, body = fetch(f"http://127.0.0.1:{port}/healthz")
        assert (status, json.loads(body)) == (200, {"status": "ok"})
        assert (tmp_path / "var" / "vibue.sqlite3").exists()
        status, page = fetch(f"http://127.0.0.1:{port}/buchen")
        assert status == 200 and "Termin buchen" in page
        status, units = fetch(f"http://127.0.0.1:{port}/api/units")
        assert "Bürgeramt Virtuell" in units
        status, dev = fetch(f"http://127.0.0.1:{port}/api/dev/accounts")
        assert "s.berger" in dev
    finally:
        server.terminate()
        server.wait(timeout=15)
        if server.stdout is not None:
            server.stdout.close()
