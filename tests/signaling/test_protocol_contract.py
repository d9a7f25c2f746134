"""The signaling contract is kept in three places that must agree: the server (signaling/), its
documentation (docs/signaling.md) and the one client module that speaks it (web/js/protocol.js).
These checks read the sources, so a new event or error code cannot slip past the docs."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import delete

from signaling import SIGNALING
from tests.calls import Peer, staff_cookie
from tests.signaling import test_signaling
from tests.signaling.test_signaling import Call
from vibue.core.paths import ROOT
from vibue.core.ratelimit import RateLimiter
from vibue.models import Appointment
from vibue.web.appkeys import SESSIONS, SETTINGS

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


# ---------------------------------------------------------------- the contract, seen on the wire
# The server's behaviour against the same document: a real call, as in tests/signaling/test_signaling.py.

settings = test_signaling.settings
served = test_signaling.served
call = test_signaling.call


def top_level_keys(text: str) -> set[str]:
    """The keys of the first JSON-like object in `text`: `{"a": x, "b", "c"?: {"d"}}` gives a, b, c."""
    keys, depth, previous = set(), 0, ""
    for match in re.finditer(r'"([a-z_]+)"|[{}\[\],:]', text[text.index("{") :]):
        token = match.group(0)
        if token in "{[":
            depth += 1
        elif token in "}]":
            depth -= 1
            if depth == 0:
                break
        elif match.group(1) and depth == 1 and previous in ("{", ","):
            keys.add(match.group(1))
        previous = token
    return keys


def data_type(name: str) -> set[str]:
    """The keys of a data type (Room, Participant, Waiting) of docs/signaling.md."""
    return top_level_keys(DOC[DOC.index(f"\n{name} ") :])


def documented_payload(event: str) -> set[str]:
    """The keys of a server → client event as its row in docs/signaling.md gives them."""
    [row] = re.findall(rf"^\| `{re.escape(event)}` \| [^|]+ \| (.*)$", section("Events, server → client"), re.MULTILINE)
    if row.startswith("`Room`"):
        left_out = re.findall(r'without `"([a-z_]+)"`', row)
        return data_type("Room") - set(left_out)
    return top_level_keys(row)


async def test_server_events_carry_the_documented_keys(call: Call) -> None:
    waiting = await call.citizen.next("waiting")
    assert set(waiting) == documented_payload("waiting")
    await test_signaling.admitted(call)
    admitted = await call.citizen.next("admitted")
    assert set(admitted) == documented_payload("admitted") == {"room", "resumed"}
    assert set(admitted["room"]) == data_type("Room")
    assert set(admitted["room"]["participants"][0]) == data_type("Participant")
    assert (await call.citizen.call("chat.send", {"text": "Hallo"}))["ok"]
    assert set(await call.clerk.next("chat")) == documented_payload("chat")
    await call.citizen.call("no.such.event")
    assert set(await call.citizen.next("error")) == documented_payload("error")
    updated = call.citizen.events["room.updated"][-1]
    assert set(updated) == documented_payload("room.updated")
    assert 'broadcast carries `"me": 0` and no `ice_servers`' in DOC
    assert updated["me"] == 0 and "ice_servers" not in updated
    assert (await call.clerk.call("call.end", {"outcome": "completed"}))["ok"]
    assert set(await call.citizen.next("call.ended")) == documented_payload("call.ended")


def payload_limits() -> list[tuple[str, str]]:
    """(field, bound as the document writes it) for every length and range limit of a client event."""
    from signaling import payloads

    limits = []
    for model in (payloads.Description, payloads.Candidate, payloads.ChatSend):
        for name, info in model.model_fields.items():
            bounds = {
                attr: getattr(m, attr)
                for m in info.metadata
                for attr in ("min_length", "max_length", "ge", "le")
                if hasattr(m, attr)
            }
            if "min_length" in bounds and "max_length" in bounds:
                limits.append((name, f"{bounds['min_length']}–{bounds['max_length']}"))
            elif "max_length" in bounds:
                limits.append((name, f"≤ {bounds['max_length']}"))
            if "ge" in bounds and "le" in bounds:
                limits.append((name, f"{bounds['ge']}–{bounds['le']}"))
    return limits


def test_every_payload_limit_is_documented() -> None:
    limits = payload_limits()
    assert ("sdp", "≤ 60000") in limits and ("sdpMLineIndex", "0–64") in limits, "the pattern no longer finds them"
    events = section("Events, client → server")
    undocumented = [
        (name, bound) for name, bound in limits if not re.search(rf'"{name}"\??: (int|str) \({bound}\)', events)
    ]
    assert undocumented == []


def test_the_order_of_the_gates_checks_is_the_same_in_every_document() -> None:
    order = ["rate", "size", "schema", "role"]
    gate = (ROOT / "signaling" / "gate.py").read_text(encoding="utf-8")
    layout = (ROOT / "docs" / "layout.md").read_text(encoding="utf-8")
    for text in (DOC, gate, layout):
        listed = re.search(r"(rate|size)[, a-z]*?(rate|size), (?:the )?schema, (?:the )?role", text)
        assert listed is not None
        assert [word for word in re.findall(r"[a-z]+", listed.group(0)) if word in order] == order


async def test_the_rate_is_checked_before_the_size(call: Call) -> None:
    call.app[SIGNALING].limiter = RateLimiter(call.app[SETTINGS].secret_key, monotonic=lambda: 0.0)
    for _ in range(100):
        await call.citizen.call("no.such.event")
    answer = await call.citizen.call("chat.send", {"text": "x" * 70_000})
    assert answer["error"]["code"] == "rate_limited"


async def test_a_token_whose_appointment_is_gone_is_refused_with_appointment_not_found(call: Call) -> None:
    await call.citizen.close()
    async with call.app[SESSIONS].begin() as session:  # as retention deletes it
        await session.execute(delete(Appointment).where(Appointment.id == await test_signaling.appointment_id(call)))
    assert await test_signaling.refusal_codes(call, join_token=call.join_token) == ["appointment_not_found"]
    assert "| `appointment_not_found` |" in section("Connecting")


async def test_room_join_after_call_end_is_call_over(call: Call) -> None:
    await test_signaling.admitted(call)
    assert (await call.clerk.call("call.end", {"outcome": "completed"}))["ok"]
    answer = await call.clerk.call("room.join", {"appointment_id": await test_signaling.appointment_id(call)})
    assert answer["error"]["code"] == "call_over"
    assert "`call_over` (`room.join`\nafter `call.end`" in section("Error codes of events")


async def test_a_clerk_of_another_unit_is_told_it_is_not_their_room(call: Call, served: Any) -> None:
    await call.citizen.next("waiting")
    other = Peer()
    try:
        await other.connect(call.base_url, cookie=await staff_cookie(served.app, call.http, "l.hoffmann"))
        aid = await test_signaling.appointment_id(call)
        for event in ("room.join", "admit", "deny"):
            assert (await other.call(event, {"appointment_id": aid}))["error"]["code"] == "forbidden_room", event
    finally:
        await other.close()
    assert "`forbidden_room` (`room.join`, `admit`, `deny`, `interpreter.invite`" in section("Error codes of events")
