"""The recording and retention policy: the shipped file loads, every broken one is refused in one exact line."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from vibue.compliance.policy import RETENTION_KEYS, PolicyError, load_policy
from vibue.compliance.retention import CALL_METADATA_COLUMNS, OF_APPOINTMENT, RULES
from vibue.core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "recordings-policy" / "policy.toml"
README = ROOT / "recordings-policy" / "README.md"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def shipped_with(old: str, new: str) -> str:
    text = SHIPPED.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    return text.replace(old, new)


def refused(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    message = str(caught.value)
    assert "\n" not in message
    prefix = f"{path}: "
    assert message.startswith(prefix)
    return message.removeprefix(prefix)


def test_shipped_policy_loads() -> None:
    policy = load_policy(SHIPPED)
    assert policy.version == 1
    assert (policy.recording.audio, policy.recording.video, policy.recording.screenshots) == (False, False, False)
    assert "identity_check_document_type" in policy.recording.call_metadata
    assert set(policy.recording.never_stored) >= {"id_numbers", "id_images", "media", "sdp", "ip_addresses"}
    assert policy.retention.appointment_personal_data == timedelta(days=30)
    assert policy.retention.call_data == timedelta(days=30)
    assert policy.retention.appointments == timedelta(days=730)
    assert policy.retention.unconfirmed_reservations == timedelta(days=1)
    assert policy.retention.audit_log == timedelta(days=365)
    assert policy.retention.documents == timedelta(days=90)
    assert policy.retention.client_telemetry == timedelta(days=30)
    assert policy.retention.mail_queue == timedelta(days=7)
    assert policy.retention.staff_sessions == timedelta(0)
    assert list(policy.retention.days()) == list(RETENTION_KEYS)


def test_default_setting_points_at_the_shipped_policy() -> None:
    assert (ROOT / Settings().policy_file).resolve() == SHIPPED


def test_readme_explains_every_retention_key_in_both_languages() -> None:
    text = README.read_text(encoding="utf-8")
    german, english = text.split("## English", 1)
    for key in RETENTION_KEYS:
        assert f"`{key}`" in german, key
        assert f"`{key}`" in english, key
    assert "Art. 5 Abs. 1 lit. e DSGVO" in german
    assert "GDPR Art. 5(1)(e)" in english


def call_data() -> list[tuple[str, ...]]:
    """What the retention job removes of a call, each with its period: (where it is kept, policy key, ...)."""
    data: list[tuple[str, ...]] = [(f"`{r.table}`", f"`{r.period}`") for r in RULES if r.column == OF_APPOINTMENT]
    data += [(f"`{rule.only[1][0]}`", f"`{rule.period}`") for rule in RULES if rule.only and rule.only[0] == "action"]
    data += [
        ("`appointments.identity_checked_at`", "`call_data`"),
        ("`call_participants.connection_test`", "`client_telemetry`"),
    ]
    data += [(f"{column.key}`", "`appointments`", "`call_data`") for column in CALL_METADATA_COLUMNS.values()]
    return data


def test_readme_lists_each_call_datum_with_its_period_in_both_languages() -> None:
    german, english = README.read_text(encoding="utf-8").split("## English", 1)
    for half in (german, english):
        rows = [line for line in half.splitlines() if line.startswith("| ")]
        for needles in call_data():
            assert [row for row in rows if all(needle in row for needle in needles)], needles


@pytest.mark.parametrize("switch", ["audio", "video", "screenshots"])
def test_recording_enabled_is_refused(tmp_path: Path, switch: str) -> None:
    text = shipped_with(f"{switch} = false", f"{switch} = true")
    assert refused(tmp_path, text) == (
        f"recording.{switch} must be false: ViBü never records calls (consented recording is not available), got true"
    )


@pytest.mark.parametrize(
    ("value", "shown"),
    [("-3", "-3"), ("3651", "3651"), ("30.5", "30.5"), ('"30"', '"30"'), ("true", "true"), ("[30]", "a list")],
)
def test_bad_retention_days_are_refused(tmp_path: Path, value: str, shown: str) -> None:
    text = shipped_with("audit_log = 365", f"audit_log = {value}")
    assert refused(tmp_path, text) == (
        f"retention.audit_log must be a whole number of days between 0 and 3650, got {shown}"
    )


def test_bounds_are_inclusive(tmp_path: Path) -> None:
    text = shipped_with("audit_log = 365", "audit_log = 3650").replace("mail_queue = 7", "mail_queue = 0")
    policy = load_policy(write(tmp_path, text))
    assert policy.retention.audit_log == timedelta(days=3650)
    assert policy.retention.mail_queue == timedelta(0)


def test_missing_retention_key_is_refused(tmp_path: Path) -> None:
    text = shipped_with("mail_queue = 7\n", "")
    assert refused(tmp_path, text) == "retention.mail_queue is missing"


def test_missing_recording_key_is_refused(tmp_path: Path) -> None:
    text = shipped_with("screenshots = false\n", "")
    assert refused(tmp_path, text) == "recording.screenshots is missing"


def test_missing_table_is_refused(tmp_path: Path) -> None:
    text = SHIPPED.read_text(encoding="utf-8").split("[retention]")[0]
    assert refused(tmp_path, text) == "retention is missing"


def test_unknown_retention_key_is_refused(tmp_path: Path) -> None:
    text = shipped_with("audit_log = 365", "audit_log = 365\nvideo_recordings = 30")
    assert refused(tmp_path, text) == (
        "retention.video_recordings is not a known key (known: appointment_personal_data, call_data, appointments, "
        "unconfirmed_reservations, audit_log, documents, client_telemetry, mail_queue, staff_sessions)"
    )


def test_unknown_top_level_key_is_refused(tmp_path: Path) -> None:
    text = "recorder = true\n" + SHIPPED.read_text(encoding="utf-8")
    assert refused(tmp_path, text) == "recorder is not a known key (known: version, recording, retention)"


def test_unknown_recording_key_is_refused(tmp_path: Path) -> None:
    text = shipped_with("screenshots = false", "screenshots = false\nscreen_share = false")
    assert refused(tmp_path, text) == (
        "recording.screen_share is not a known key (known: audio, video, screenshots, call_metadata, never_stored)"
    )


def test_table_of_wrong_type_is_refused(tmp_path: Path) -> None:
    text = 'version = 1\nrecording = "off"\n'
    assert refused(tmp_path, text) == 'recording must be a table, got "off"'


def test_wrong_version_is_refused(tmp_path: Path) -> None:
    text = shipped_with("version = 1", "version = 2")
    assert refused(tmp_path, text) == "version must be 1, got 2"


def test_metadata_that_is_never_stored_is_refused(tmp_path: Path) -> None:
    text = shipped_with('"channel",', '"channel", "ip_addresses",')
    assert refused(tmp_path, text) == (
        "recording.call_metadata must not include ip_addresses: it is listed under never_stored"
    )


def test_unknown_metadata_item_is_refused(tmp_path: Path) -> None:
    text = shipped_with('"channel",', '"channel", "id_number",')
    assert refused(tmp_path, text) == (
        "recording.call_metadata must only name known items (start_time, end_time, duration, outcome, channel, "
        'identity_check_document_type), got "id_number"'
    )


def test_dropping_a_never_stored_item_is_refused(tmp_path: Path) -> None:
    text = shipped_with('"sdp",', "")
    assert refused(tmp_path, text) == "recording.never_stored must include sdp"


def test_not_toml_is_refused(tmp_path: Path) -> None:
    assert refused(tmp_path, "[recording\naudio = false\n") == (
        "not valid TOML: Expected ']' at the end of a table declaration (at line 1, column 11)"
    )


def test_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_bytes(b"version = 1\n# \xff\n")
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert str(caught.value) == f"{path}: not valid TOML: the file is not UTF-8"


def test_missing_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"
    with pytest.raises(PolicyError) as caught:
        load_policy(str(path))
    assert str(caught.value) == f"{path}: cannot read the policy file: No such file or directory"


def test_policy_is_frozen() -> None:
    policy = load_policy(SHIPPED)
    with pytest.raises(AttributeError):
        policy.retention.audit_log = timedelta(days=1)  # type: ignore[misc]


def test_documents_may_not_outlive_their_appointments(tmp_path: Path) -> None:
    message = refused(tmp_path, shipped_with("documents = 90", "documents = 731"))
    assert message == "retention.documents must not be longer than retention.appointments (730 days), got 731"
    assert (
        load_policy(write(tmp_path, shipped_with("documents = 90", "documents = 730"))).retention.documents.days == 730
    )
