"""Settings: read once, validated, documented in the README, strict in production."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from vibue.core.paths import ROOT
from vibue.core.settings import PLACEHOLDER_SECRET, SettingsError, env_name, load, setting_fields


def test_readme_documents_every_setting() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [env_name(f.name) for f in setting_fields() if f"`{env_name(f.name)}`" not in readme]
    assert missing == [], f"README.md does not document: {missing}"


def test_defaults_are_the_embedded_setup() -> None:
    settings = load({})
    assert settings.effective_database_url == "sqlite+aiosqlite:///var/vibue.sqlite3"
    assert (settings.host, settings.port, settings.mode) == ("127.0.0.1", 8080, "development")
    assert settings.base_url == "http://127.0.0.1:8080"
    assert settings.mail_transport == "file"


def test_environment_and_toml_file(tmp_path: Path) -> None:
    config = tmp_path / "vibue.toml"
    config.write_text('port = 9000\ncity_name = "Mannheim"\n', encoding="utf-8")
    settings = load(
        {"VIBUE_CONFIG": str(config), "VIBUE_PORT": "9100", "VIBUE_SMTP_SECURITY": "starttls", "VIBUE_SEED_DEMO": "no"}
    )
    assert (settings.port, settings.city_name, settings.smtp_security, settings.seed_demo) == (
        9100,
        "Mannheim",
        "starttls",
        False,
    )
    assert settings.base_url == "http://127.0.0.1:9100"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"VIBUE_PORT": "eighty"}, "VIBUE_PORT: expected int, got 'eighty'"),
        ({"VIBUE_MODE": "staging"}, "VIBUE_MODE must be development or production"),
        ({"VIBUE_MAIL_TRANSPORT": "pigeon"}, "VIBUE_MAIL_TRANSPORT must be file or smtp"),
        (
            {"VIBUE_MODE": "production", "VIBUE_SEED_DEMO": "false"},
            "production mode refuses the placeholder secret: set VIBUE_SECRET_KEY to at least 32 random characters",
        ),
        (
            {"VIBUE_MODE": "production", "VIBUE_SECRET_KEY": "x" * 40},
            "production mode refuses demo data: set VIBUE_SEED_DEMO=false",
        ),
    ],
)
def test_bad_settings_are_refused_with_a_clear_message(environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load(environ)
    assert str(raised.value) == message


def test_unknown_keys_in_the_file_are_refused(tmp_path: Path) -> None:
    config = tmp_path / "vibue.toml"
    config.write_text("prot = 9000\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"unknown settings in .*: prot"):
        load({"VIBUE_CONFIG": str(config)})


def test_production_accepts_real_secrets() -> None:
    settings = load({"VIBUE_MODE": "production", "VIBUE_SECRET_KEY": "k" * 40, "VIBUE_SEED_DEMO": "0"})
    assert settings.production and settings.cookies_secure
    assert settings.secret_key != PLACEHOLDER_SECRET


def test_run_py_help_lists_every_setting() -> None:
    result = subprocess.run([sys.executable, "run.py", "--help"], cwd=ROOT, capture_output=True, text=True, check=True)
    for f in setting_fields():
        assert env_name(f.name) in result.stdout


def test_run_py_refuses_production_placeholders() -> None:
    result = subprocess.run(
        [sys.executable, "run.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"VIBUE_MODE": "production", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert result.returncode == 2
    assert "refuses the placeholder secret" in result.stderr
