"""web/js/ handles the server's error codes from the one list (vibue/core/error_codes.py), and only those.

The client is read as text (no build step, no JS parser here): every code it compares an error's
`code` with must be one the server sends (or one the client makes up itself for a network failure,
listed below); a code checked after a direct API call must be one that endpoint declares in
/api/openapi.json; and every `catch` of an API call, every Socket.IO refusal handler, must fall
back to showing the server's translated message, so a code the page does not name still reaches
the citizen with its text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from signaling import connection_test
from vibue.app import ROUTE_GROUPS
from vibue.core.error_codes import CODES
from vibue.web.openapi import openapi_path

JS = Path(__file__).resolve().parents[2] / "web" / "js"
I18N = Path(__file__).resolve().parents[2] / "web" / "i18n"

# Codes the client makes up itself (web/js/api.js, web/js/protocol.js): no answer, or no usable one.
CLIENT_CODES = {
    "network_error": "api.js: fetch failed, no answer",
    "server_error": "api.js: a 5xx without the error shape",
    "bad_response": "api.js: a 2xx that is not JSON",
    "unknown": "api.js: ApiError's default",
    "connect_failed": "protocol.js: connect_error without a refusal code",
    "disconnected": "protocol.js: an event sent while the socket is down",
    "timeout": "protocol.js: no acknowledgement in time",
}
CLIENT_CODE = re.compile(r"http_\d{3}")  # api.js: `http_${status}` for an answer without the error shape
# Ways a page shows the server's translated message (forms.js errorMessage/showFormError read
# serverMessage; clerk-call.js protocolMessage does too), or hands the error on.
SHOWS_SERVER_MESSAGE = re.compile(r"\berrorMessage\(|\bshowFormError\(|\bserverMessage\b|\bprotocolMessage\(|\bthrow\b")

STRING = r"'([a-z_0-9]+)'"
COMPARED = [
    re.compile(rf"\.code\s*[!=]==?\s*{STRING}"),
    re.compile(rf"{STRING}\s*[!=]==?\s*\w+(?:\.\w+)*\.code\b"),
]
LIST_CHECK = re.compile(r"\[([^\]]*)\]\s*\.includes\(\s*\w+(?:\.\w+)*\.code\s*\)")
NAMED_LIST_CHECK = re.compile(r"\b([A-Z][A-Z_]+)\s*\.(?:has|includes)\(\s*\w+(?:\.\w+)*\.code\s*\)")
# getJSON/postJSON, and fetchBytes (api.js: a PDF or PEM; POST when given a `body`). The path is a
# literal, `base`, or a call of a same-file function that returns a literal (call-documents.js pdfPath);
# the rest of the statement is looked ahead at, not consumed, so a second call in it is still found.
API_CALL = re.compile(
    r"\b(getJSON|postJSON|fetchBytes)\(\s*(?:withQuery\(\s*)?(`[^`]*`|'[^']*'|base\b|\w+\([^()]*\))(?=([^;]*))"
)
PATH_LITERAL = r"`[^`]*`|'[^']*'"


@dataclass(frozen=True)
class Check:
    file: str
    code: str


def _source(path: Path) -> str:
    """The script without comments (a code named in a comment is not a check)."""
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"(?m)(^|[^:'\"`])//.*$", r"\1", text)


def _block(text: str, start: int) -> tuple[str, int]:
    """The {...} block opening at or after `start` (strings skipped), and the index after it."""
    open_at = text.index("{", start)
    depth, i, quote = 0, open_at, ""
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return text[open_at + 1 : i], i + 1
        i += 1
    raise AssertionError(f"unbalanced braces after offset {start}")


def _named_lists(text: str) -> dict[str, list[str]]:
    """const NAME = ['a', 'b'] or new Set([...]): the lists a page checks codes against."""
    found = re.finditer(r"const\s+([A-Z][A-Z_]+)\s*=\s*(?:new Set\(|Object\.freeze\()?\[([^\]]*)\]", text)
    return {m[1]: re.findall(STRING, m[2]) for m in found}


def checked_codes(text: str, lists: dict[str, list[str]]) -> list[str]:
    text = re.sub(r"typeof\s+[\w.]+\s*[!=]==?\s*'\w+'", "", text)  # typeof x.code === 'string' is no code
    codes = [code for pattern in COMPARED for code in pattern.findall(text)]
    codes += [code for items in LIST_CHECK.findall(text) for code in re.findall(STRING, items)]
    codes += [code for name in NAMED_LIST_CHECK.findall(text) for code in lists.get(name, [])]
    return codes


def _functions(text: str) -> dict[str, str]:
    bodies = {}
    for match in re.finditer(r"function\s+(\w+)\s*\([^)]*\)\s*\{", text):
        bodies[match[1]], _ = _block(text, match.end() - 1)
    return bodies


@dataclass
class CatchOfApiCall:
    file: str
    calls: list[tuple[str, str]]  # (method, path pattern with * for each ${...})
    handler: str  # the catch block, with the bodies of same-file functions it hands the error to


def catches(path: Path) -> list[CatchOfApiCall]:
    text = _source(path)
    functions = _functions(text)
    base = re.search(r"const base = `([^`]*)`", text)
    found = []
    for match in re.finditer(r"\btry\s*\{", text):
        body, after = _block(text, match.end() - 1)
        body = _without_inner_catches(body)
        catch = re.match(r"\s*catch\s*(?:\((\w+)\))?\s*\{", text[after:])
        if catch is None:
            continue
        handler, _ = _block(text, after + catch.end() - 1)
        calls = []
        for function, literal, rest in API_CALL.findall(body):
            literal = _path_of(literal, functions)
            if literal is None:
                continue
            target = "${base}" if literal == "base" else literal[1:-1]
            target = target.replace("${base}", base[1] if base else "${base}")
            calls.append((_method(function, rest), re.sub(r"\$\{[^}]*\}", "*", target)))
        if not calls:
            continue
        if catch[1]:
            for name in re.findall(rf"\b(\w+)\(\s*{catch[1]}\b", handler):
                handler += "\n" + functions.get(name, "")
        found.append(CatchOfApiCall(path.name, calls, handler))
    return found


def _method(function: str, rest: str) -> str:
    if function == "fetchBytes":
        return "POST" if re.match(r"\s*,\s*\{[^}]*\bbody\b", rest) else "GET"
    return "GET" if function == "getJSON" else "POST"


def _path_of(argument: str, functions: dict[str, str]) -> str | None:
    """The path literal (or `base`) an API call's first argument stands for; None when not known here."""
    called = re.fullmatch(r"(\w+)\(.*\)", argument, flags=re.S)
    if called is None:
        return argument
    returned = re.search(rf"\breturn\s+({PATH_LITERAL})\s*;", functions.get(called[1], ""))
    return returned[1] if returned else None


def _without_inner_catches(body: str) -> str:
    """A try's own statements: API calls inside a nested try are that one's to handle."""
    while (inner := re.search(r"\btry\s*\{", body)) is not None:
        _, after = _block(body, inner.end() - 1)
        catch = re.match(r"\s*catch\s*(?:\(\w+\))?\s*\{", body[after:])
        end = _block(body, after + catch.end() - 1)[1] if catch else after
        body = body[: inner.start()] + body[end:]
    return body


def refusal_handlers(path: Path) -> list[str]:
    """Bodies of `x.on('refused', (err) => {...})`: a Socket.IO connection turned down."""
    text = _source(path)
    return [_block(text, m.end() - 1)[0] for m in re.finditer(r"\.on\('refused',\s*\(\w+\)\s*=>\s*\{", text)]


def all_checks() -> list[Check]:
    checks = []
    for path in sorted(JS.glob("*.js")):
        text = _source(path)
        checks += [Check(path.name, code) for code in checked_codes(text, _named_lists(text))]
    return checks


def is_client_code(code: str) -> bool:
    return code in CLIENT_CODES or CLIENT_CODE.fullmatch(code) is not None


def test_the_reading_finds_the_checks_it_should() -> None:
    """The reading itself: it sees each way the pages check codes today."""
    checks = {(check.file, check.code) for check in all_checks()}
    assert ("booking.js", "slot_taken") in checks  # SLOT_GONE.has(err.code)
    assert ("interpreter.js", "invitation_used") in checks  # err.code === '...'
    assert ("interpreter.js", "token_expired") in checks  # [...].includes(err.code)
    verify = [c for c in catches(JS / "video.js") if ("POST", "/api/video/*/verify") in c.calls]
    assert len(verify) == 1
    # fetchBytes: GET unless given a body, the path also through a same-file function (pdfPath).
    assert [c.calls for c in catches(JS / "call-documents.js") if ("GET", "/api/video/*/documents/*/pdf") in c.calls]
    preview = ("POST", "/api/clerk/appointments/*/document-preview")
    assert [c.calls for c in catches(JS / "clerk-documents.js") if preview in c.calls]
    assert [c.calls for c in catches(JS / "verify.js") if ("GET", "/api/verify/root-certificate") in c.calls]
    assert len(refusal_handlers(JS / "clerk-call.js")) == 1


def test_the_client_checks_only_codes_the_server_sends() -> None:
    unknown = [f"{check.file}: {check.code!r}" for check in all_checks() if check.code not in CODES]
    assert [entry for entry in unknown if not is_client_code(entry.split("'")[1])] == []


def test_client_codes_are_made_by_the_client_and_unlike_the_servers() -> None:
    text = (JS / "api.js").read_text(encoding="utf-8") + (JS / "protocol.js").read_text(encoding="utf-8")
    assert sorted(code for code in CLIENT_CODES if f"'{code}'" not in text) == []
    assert sorted(set(CLIENT_CODES) & set(CODES)) == []


def test_translations_keyed_by_code_name_codes_that_exist() -> None:
    """clerk-call.js looks up `clerkCall.error.<code>`: each such text is for a real code."""
    for lang in ("de", "en"):
        messages = json.loads((I18N / f"{lang}.json").read_text(encoding="utf-8"))
        keys = [key.removeprefix("clerkCall.error.") for key in messages if key.startswith("clerkCall.error.")]
        assert keys, lang
        assert sorted(k for k in keys if k not in CODES and not is_client_code(k) and k != "other") == [], lang


def _endpoint_codes() -> dict[tuple[str, str], set[str]]:
    """(method, path with * for each parameter) -> the codes it may answer, as /api/openapi.json lists them."""
    groups = [*ROUTE_GROUPS, connection_test.routes]  # run.py plugs signaling's routes in
    return {
        (endpoint.method, re.sub(r"\{[^}]*\}", "*", openapi_path(endpoint.path))): set(endpoint.error_codes)
        for group in groups
        for endpoint in group.endpoints
    }


def test_codes_checked_after_an_api_call_are_that_endpoints() -> None:
    """A page that waits for a code its endpoint never answers has a branch that never runs."""
    declared = _endpoint_codes()
    wrong = []
    for path in sorted(JS.glob("*.js")):
        lists = _named_lists(_source(path))
        for catch in catches(path):
            possible: set[str] = set()
            for method, pattern in catch.calls:
                # A ${...} in the client's path stands for any one segment (manage.js: `${base}/${path}`).
                matches = re.compile(re.escape(pattern).replace(r"\*", "[^/]+") + "$")
                codes = [c for (m, p), c in declared.items() if m == method and matches.match(p)]
                assert codes, f"{catch.file} calls {method} {pattern}, which the server does not have"
                possible = possible.union(*codes)
            wrong += [
                f"{catch.file} after {catch.calls}: {code!r}"
                for code in checked_codes(catch.handler, lists)
                if code not in possible and not is_client_code(code)
            ]
    assert wrong == []


@pytest.mark.parametrize("path", sorted(JS.glob("*.js")), ids=lambda p: p.name)
def test_every_catch_of_an_api_call_shows_the_servers_message(path: Path) -> None:
    """The generic fallback: whatever the code, the citizen reads the server's translated text."""
    silent = [catch.calls for catch in catches(path) if not SHOWS_SERVER_MESSAGE.search(catch.handler)]
    assert silent == []


@pytest.mark.parametrize("path", sorted(JS.glob("*.js")), ids=lambda p: p.name)
def test_every_refused_connection_is_explained(path: Path) -> None:
    """connect_error: the refusal codes a page names are connect codes; the rest show the server's text."""
    for handler in refusal_handlers(path):
        codes = checked_codes(handler, _named_lists(_source(path)))
        assert sorted(c for c in codes if not (c in CODES and CODES[c].connect) and not is_client_code(c)) == []
        assert SHOWS_SERVER_MESSAGE.search(handler), handler


def test_protocol_refusal_codes_are_connect_codes() -> None:
    text = _source(JS / "protocol.js")
    codes = _named_lists(text)["REFUSAL_CODES"]
    assert sorted(code for code in codes if code not in CODES or not CODES[code].connect) == []
