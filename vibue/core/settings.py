"""Settings: one table of every option, read once from the environment and an optional TOML file.

Every setting has a name, a type, a default and a one-line help. `python run.py --help` prints the
table and a test checks that the README documents each entry, so nothing is configured in secret.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PLACEHOLDER_SECRET = "dev-only-change-me"  # noqa: S105 (the value production mode refuses)


class SettingsError(ValueError):
    """A setting has a value the app cannot run with."""


def _setting(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    host: str = _setting("127.0.0.1", "Address the HTTP server listens on.")
    port: int = _setting(8080, "TCP port of the HTTP server.")
    mode: str = _setting(
        "development", "development or production; production refuses placeholder secrets and hides /dev."
    )
    data_dir: str = _setting("var", "Folder for the SQLite database, the mail outbox and other local state.")
    database_url: str = _setting(
        "", "SQLAlchemy URL; empty means SQLite in the data dir (sqlite+aiosqlite:///var/vibue.sqlite3)."
    )
    base_url: str = _setting("", "Public URL of the app, used in links inside emails; empty means http://HOST:PORT.")
    secret_key: str = _setting(
        PLACEHOLDER_SECRET, "Secret for signing tokens and cookies; at least 32 characters in production."
    )
    timezone: str = _setting("Europe/Berlin", "Time zone of the office: opening hours and slots are in this zone.")
    city_name: str = _setting("Heidelberg", "Name of the city shown in pages and emails.")
    office_name: str = _setting(
        "Bürgeramt Virtuell", "Issuing office printed on documents and named by their verification page."
    )
    mail_transport: str = _setting("file", "file (outbox folder in the data dir) or smtp.")
    mail_from: str = _setting("buergeramt@example.org", "Sender address of outgoing mail.")
    smtp_host: str = _setting("127.0.0.1", "SMTP server host (mail_transport=smtp).")
    smtp_port: int = _setting(25, "SMTP server port.")
    smtp_username: str = _setting("", "SMTP user name; empty means no authentication.")
    smtp_password: str = _setting("", "SMTP password.")
    smtp_security: str = _setting(
        "auto", "auto (STARTTLS when offered), starttls (required), tls (implicit TLS, port 465) or none."
    )
    smtp_timeout: float = _setting(10.0, "Seconds to wait for the SMTP server.")
    reservation_minutes: int = _setting(15, "How long an unconfirmed reservation holds its slot.")
    booking_horizon_days: int = _setting(60, "How many days ahead citizens may book.")
    min_lead_minutes: int = _setting(60, "Earliest booking is this many minutes from now.")
    rate_limit_reservations: int = _setting(10, "Reservations one client may make per hour.")
    rate_limit_mails: int = _setting(20, "Mails one client may trigger per hour.")
    rate_limit_logins: int = _setting(30, "Sign-in attempts one client may make per 15 minutes.")
    rate_limit_identity_codes: int = _setting(3, "Identity codes one video appointment may request per 10 minutes.")
    rate_limit_identity_checks: int = _setting(30, "Identity code checks one client may make per 10 minutes.")
    rate_limit_connection_tests: int = _setting(10, "Connection tests one client may start per 10 minutes.")
    rate_limit_connection_test_results: int = _setting(
        20, "Connection test results one client may report per 10 minutes."
    )
    rate_limit_interpreter_joins: int = _setting(20, "Interpreter joins one client may try per 10 minutes.")
    rate_limit_document_checks: int = _setting(30, "Document verifications one client may make per 10 minutes.")
    rate_limit_document_checks_per_document: int = _setting(
        20, "Verifications of one issued document per 10 minutes, from all clients together."
    )
    trusted_proxies: str = _setting(
        "", "Comma-separated addresses of reverse proxies whose X-Forwarded-For names the client (rate limits)."
    )
    staff_session_hours: int = _setting(10, "Staff sessions expire after this many hours.")
    secure_cookies: bool = _setting(
        False, "Secure, __Host- prefixed cookies (always on in production; set behind HTTPS)."
    )
    stun_urls: str = _setting(
        "", "Comma-separated STUN URLs handed to browsers (stun:host:3478); empty: host candidates only."
    )
    redis_url: str = _setting(
        "", "Redis URL (redis://127.0.0.1:6379/0); set it to run several server processes together."
    )
    redis_channel: str = _setting("vibue", "Redis pub/sub channel the signaling processes share.")
    redis_prefix: str = _setting(
        "vibue", "Prefix of the Redis keys that hold the shared rate limits and sign-in lockouts."
    )
    turn_urls: str = _setting("", "Comma-separated TURN URLs (turn:host:3478?transport=udp, turns:host:5349).")
    turn_secret: str = _setting(
        "", "coturn's static-auth-secret; TURN is offered only when this and turn_urls are set."
    )
    turn_ttl_seconds: int = _setting(3600, "Lifetime of a TURN credential; clients refresh it before it expires.")
    reconnect_grace_seconds: float = _setting(
        60.0, "How long a dropped call participant may come back without a new admission."
    )
    room_sweep_seconds: float = _setting(
        1.0, "How often each process ends expired grace periods, abandoned calls and closed waiting rooms."
    )
    heartbeat_seconds: float = _setting(1.0, "How often each signaling process records that it is alive.")
    process_dead_seconds: float = _setting(
        4.0, "A process silent this long counts as dead: its call participants are disconnected."
    )
    echo_peers_max: int = _setting(
        8, "Connection tests (server-side aiortc echo peers) one process runs at the same time; more get 503."
    )
    echo_timeout_seconds: float = _setting(30.0, "A connection test's echo peer is closed after this many seconds.")
    seed_demo: bool = _setting(True, "Seed the demo catalog and demo staff into an empty database at start.")
    policy_file: str = _setting("recordings-policy/policy.toml", "Path of the recording and retention policy.")
    retention_interval_hours: float = _setting(24.0, "How often the retention job runs.")
    seal_key_source: str = _setting(
        "development",
        "development (a PKI made under the data dir; refused in production), pkcs12 or pkcs11: the office seal's key.",
    )
    seal_pkcs12_file: str = _setting("", "PKCS#12 file with the seal's key and certificate (seal_key_source=pkcs12).")
    seal_pkcs12_password: str = _setting("", "Password of the PKCS#12 file; empty for none.")
    seal_pkcs11_module: str = _setting(
        "", "Path of the PKCS#11 module (/usr/lib/softhsm/libsofthsm2.so; seal_key_source=pkcs11)."
    )
    seal_pkcs11_token: str = _setting("", "Label of the PKCS#11 token that holds the seal's key.")
    seal_pkcs11_pin: str = _setting("", "User PIN of the PKCS#11 token.")
    seal_pkcs11_key_label: str = _setting(
        "", "Label of the seal's private key on the token; its certificate carries the same label."
    )
    seal_chain_file: str = _setting(
        "", "PEM file with the CA certificates of the seal (and of the timestamp authority); empty: none extra."
    )
    seal_tsa_url: str = _setting(
        "", "RFC 3161 timestamp authority URL; set, documents are sealed at PAdES B-T (B-LT with revocation data)."
    )
    seal_timeout_seconds: float = _setting(
        10.0, "How long a seal waits for the timestamp authority or a revocation responder."
    )
    seal_workers: int = _setting(
        2, "Worker processes that render and seal documents; 0: threads of the app's process (tests)."
    )
    log_level: str = _setting("INFO", "Log level: DEBUG, INFO, WARNING or ERROR.")

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_path / 'vibue.sqlite3'}"

    @property
    def proxies(self) -> frozenset[str]:
        return frozenset(part.strip() for part in self.trusted_proxies.split(",") if part.strip())

    @property
    def production(self) -> bool:
        return self.mode == "production"

    @property
    def cookies_secure(self) -> bool:
        return self.secure_cookies or self.production or self.base_url.startswith("https://")

    def cookie_name(self, base: str) -> str:
        """`__Host-<base>` when cookies are Secure (ASVS 3.4.4), else `base`.

        A __Host- cookie is accepted by browsers only if Secure, host-only and Path=/, so a sibling
        subdomain of the city cannot plant or overwrite our session or CSRF cookie. Plain HTTP
        (development) cannot carry the prefix.
        """
        return f"__Host-{base}" if self.cookies_secure else base

    def replace(self, **changes: Any) -> Settings:
        return validate(dataclasses.replace(self, **changes))


def setting_fields() -> list[dataclasses.Field[Any]]:
    return list(dataclasses.fields(Settings))


def env_name(name: str) -> str:
    return f"VIBUE_{name.upper()}"


def _coerce(name: str, kind: Any, raw: Any) -> Any:
    kind_name = kind if isinstance(kind, str) else kind.__name__
    try:
        if kind_name == "bool":
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off", ""}:
                return False
            raise ValueError(raw)
        if kind_name == "int":
            return int(raw)
        if kind_name == "float":
            return float(raw)
        return str(raw)
    except (TypeError, ValueError):
        raise SettingsError(f"{env_name(name)}: expected {kind_name}, got {raw!r}") from None


def load(environ: Mapping[str, str] | None = None, config_file: str | None = None) -> Settings:
    """Build settings from defaults, then the TOML file (VIBUE_CONFIG), then VIBUE_* variables."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    path = config_file or env.get("VIBUE_CONFIG")
    if path:
        try:
            with open(path, "rb") as handle:
                table = tomllib.load(handle)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise SettingsError(f"cannot read config file {path}: {exc}") from None
        known = {f.name for f in setting_fields()}
        unknown = sorted(set(table) - known)
        if unknown:
            raise SettingsError(f"unknown settings in {path}: {', '.join(unknown)}")
        values.update(table)
    for f in setting_fields():
        if env_name(f.name) in env:
            values[f.name] = env[env_name(f.name)]
    kinds = {f.name: f.type for f in setting_fields()}
    coerced = {name: _coerce(name, kinds[name], raw) for name, raw in values.items()}
    return validate(Settings(**coerced))


def validate(settings: Settings) -> Settings:
    if not settings.base_url:
        settings = dataclasses.replace(settings, base_url=f"http://{settings.host}:{settings.port}")
    if settings.mode not in {"development", "production"}:
        raise SettingsError("VIBUE_MODE must be development or production")
    if settings.mail_transport not in {"file", "smtp"}:
        raise SettingsError("VIBUE_MAIL_TRANSPORT must be file or smtp")
    if settings.smtp_security not in {"auto", "starttls", "tls", "none"}:
        raise SettingsError("VIBUE_SMTP_SECURITY must be auto, starttls, tls or none")
    if not 1 <= settings.port <= 65535:
        raise SettingsError("VIBUE_PORT must be between 1 and 65535")
    if settings.reservation_minutes < 1 or settings.booking_horizon_days < 1:
        raise SettingsError("VIBUE_RESERVATION_MINUTES and VIBUE_BOOKING_HORIZON_DAYS must be positive")
    if settings.echo_peers_max < 1 or settings.echo_timeout_seconds <= 0:
        raise SettingsError("VIBUE_ECHO_PEERS_MAX must be at least 1 and VIBUE_ECHO_TIMEOUT_SECONDS positive")
    if settings.room_sweep_seconds <= 0 or settings.heartbeat_seconds <= 0:
        raise SettingsError("VIBUE_ROOM_SWEEP_SECONDS and VIBUE_HEARTBEAT_SECONDS must be positive")
    if settings.process_dead_seconds <= settings.heartbeat_seconds:
        raise SettingsError("VIBUE_PROCESS_DEAD_SECONDS must be longer than VIBUE_HEARTBEAT_SECONDS")
    if settings.seal_key_source not in {"development", "pkcs12", "pkcs11"}:
        raise SettingsError("VIBUE_SEAL_KEY_SOURCE must be development, pkcs12 or pkcs11")
    if settings.seal_key_source == "pkcs12" and not settings.seal_pkcs12_file:
        raise SettingsError("VIBUE_SEAL_KEY_SOURCE=pkcs12 needs VIBUE_SEAL_PKCS12_FILE")
    if settings.seal_key_source == "pkcs11" and not (
        settings.seal_pkcs11_module and settings.seal_pkcs11_token and settings.seal_pkcs11_key_label
    ):
        raise SettingsError(
            "VIBUE_SEAL_KEY_SOURCE=pkcs11 needs VIBUE_SEAL_PKCS11_MODULE, VIBUE_SEAL_PKCS11_TOKEN "
            "and VIBUE_SEAL_PKCS11_KEY_LABEL"
        )
    if settings.seal_timeout_seconds <= 0 or settings.seal_workers < 0:
        raise SettingsError("VIBUE_SEAL_TIMEOUT_SECONDS must be positive and VIBUE_SEAL_WORKERS at least 0")
    if settings.production:
        if settings.secret_key == PLACEHOLDER_SECRET or len(settings.secret_key) < 32:
            raise SettingsError(
                "production mode refuses the placeholder secret: set VIBUE_SECRET_KEY to at least 32 random characters"
            )
        if settings.mail_transport == "smtp" and settings.smtp_username and settings.smtp_security in {"auto", "none"}:
            raise SettingsError(
                "production mode refuses to send the SMTP password without enforced TLS: "
                "set VIBUE_SMTP_SECURITY to starttls or tls"
            )
        if settings.seed_demo:
            raise SettingsError("production mode refuses demo data: set VIBUE_SEED_DEMO=false")
    return settings


def help_text() -> str:
    lines = [
        "Settings (environment variables; VIBUE_CONFIG names an optional TOML file with the same keys in lower case):",
        "",
    ]
    for f in setting_fields():
        default = f.default if f.default != "" else "(empty)"
        kind = f.type if isinstance(f.type, str) else f.type.__name__
        lines.append(f"  {env_name(f.name):32} {kind:6} default {default}")
        lines.append(f"      {f.metadata['help']}")
    return "\n".join(lines)
