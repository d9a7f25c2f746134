"""The signaling contract is kept in three places that must agree: the server (signaling/), its
documentation (docs/signaling.md) and the one client module that speaks it (web/js/protocol.js).
These checks read the sources, so a new event or error code cannot slip past the docs."""

from __future__ import annotations

import re

from vibue.core.paths import ROOT

SERVER = (ROOT / "signaling" / "server.py").read_text(encoding="utf-8")
PROTOCOL = (ROOT / "web" / "js" / "protocol.js").read_text(encoding="utf-8")
DOC = (ROOT / "docs" / "signaling.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    """The text of one `## title` section of docs/signaling.md."""
    start = DOC.index(f"## {title}")
    end = DOC.find("\n## ", start + 1)
    return DOC[start : end if end != -1 else None]


def table_events(text: str) -> set[str]:
    """Event names in the first column of a Markdown table."""
    return set(re.findall(r"^\| `([a-z.]+)` \|", text, flags=re.MULTILINE))


def client_events_of_the_server() -> set[str]:
    return set(re.findall(r'self\.event\("([a-z.]+)"', SERVER))


def server_events_of_the_server() -> set[str]:
    return set(re.findall(r'emit\(\s*"([a-z.]+)"', SERVER))


def test_every_client_event_is_documented_and_spoken_by_protocol_js() -> None:
    registered = client_events_of_the_server()
    assert "signal" in registered and len(registered) >= 10, "the pattern no longer finds the handlers"
    assert table_events(section("Events, client → server")) == registered
    assert set(re.findall(r"request\('([a-z.]+)'", PROTOCOL)) == registered


def test_every_server_event_is_documented_and_known_to_protocol_js() -> None:
    emitted = server_events_of_the_server()
    assert {"admitted", "signal", "peer.left"} <= emitted, "the pattern no longer finds the emits"
    assert table_events(section("Events, server → client")) == emitted
    listed = re.search(r"SERVER_EVENTS = Object\.freeze\(\[(.*?)\]\)", PROTOCOL, flags=re.DOTALL)
    assert listed is not None
    assert set(re.findall(r"'([a-z.]+)'", listed.group(1))) == emitted


def test_every_error_code_of_the_signaling_server_is_documented() -> None:
    sources = "".join(path.read_text(encoding="utf-8") for path in (ROOT / "signaling").glob("*.py"))
    codes = set(re.findall(r'(?:Refused|Conflict|Forbidden|NotFound|Invalid)\("([a-z_]+)"', sources))
    codes |= set(re.findall(r'(?:failure|_refusal)\("([a-z_]+)"', sources))
    assert {"wrong_room", "not_admitted", "call_over"} <= codes, "the pattern no longer finds the codes"
    undocumented = {code for code in codes if f"`{code}`" not in DOC}
    assert undocumented == set()


def test_only_protocol_js_speaks_socket_io() -> None:
    speakers = [
        path.name
        for path in sorted((ROOT / "web" / "js").glob("*.js"))
        if re.search(r"socket\.io|\bio\(|\.emit\(", path.read_text(encoding="utf-8"))
    ]
    assert speakers == ["protocol.js"]
