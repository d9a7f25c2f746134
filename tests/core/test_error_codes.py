"""The one list of error codes (vibue/core/error_codes.py) against the server's source and the catalogs.

The Python source of vibue/, signaling/ and documents/ is read with `ast`: every code given to a domain error,
to signaling's `Refused`, `failure` and `_refusal`, to a join-token error or to `error_response`,
and every code in a route's `errors=(...)`, must be registered; every registered code must be
used somewhere and have its German and English message.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from vibue.core import errors
from vibue.core.error_codes import CODES
from vibue.core.i18n import catalog
from vibue.web.middleware import HTTP_CODES

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("vibue", "signaling", "documents")
# The domain errors of vibue/core/errors.py; subclasses elsewhere (signaling/echo.py's Busy) are found in the source.
ERROR_CLASSES = {
    name: cls
    for name, cls in vars(errors).items()
    if isinstance(cls, type) and issubclass(cls, errors.DomainError) and cls.__module__ == errors.__name__
}
# Signaling's answers: an event refused (Refused, failure) or a connection refused (_refusal, TokenError).
SOCKET_HELPERS = {"Refused", "failure"}
CONNECT_HELPERS = {"_refusal", "TokenError"}


@dataclass(frozen=True)
class Use:
    code: str
    where: str  # path:line
    how: str  # the class or helper
    status: int | None = None  # the HTTP status of the domain error class raised, if one


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _constants(node: ast.expr) -> list[str] | None:
    """The codes an argument can be: a literal, or either literal of `"a" if cond else "b"`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        body, orelse = _constants(node.body), _constants(node.orelse)
        return None if body is None or orelse is None else body + orelse
    return None


def _passes_code_on(node: ast.expr) -> bool:
    """`failure(exc.code)`, `_refusal(refused.code)`: a code already raised (and checked) elsewhere."""
    return isinstance(node, ast.Attribute) and node.attr == "code"


def _path_id_codes(node: ast.Call) -> list[str] | None:
    """vibue/catalog/routes.py builds NotFound(f"{name.removesuffix('_id')}_not_found") from path_id's name."""
    if _name(node.func) == "path_id" and len(node.args) == 2:
        names = _constants(node.args[1])
        return None if names is None else [f"{name.removesuffix('_id')}_not_found" for name in names]
    return None


class Scan:
    def __init__(self) -> None:
        self.uses: list[Use] = []
        self.unreadable: list[str] = []  # codes built in a way this scan does not understand
        self.classes = dict(ERROR_CLASSES)
        self.http_modules: set[str] = set()

    def run(self) -> Scan:
        trees = {
            str(path.relative_to(ROOT)): ast.parse(path.read_text(encoding="utf-8"))
            for source in SOURCES
            for path in sorted((ROOT / source).rglob("*.py"))
        }
        for where, tree in trees.items():
            self._classes(where, tree)
        for where, tree in trees.items():
            self._calls(where, tree)
            self._defaults(where, tree)
        # The signaling modules an HTTP route module imports answer HTTP too (echo.py's Busy).
        for where in list(self.http_modules):
            for node in ast.walk(trees[where]):
                if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("signaling."):
                    self.http_modules.add(node.module.replace(".", "/") + ".py")
        return self

    def _defaults(self, where: str, tree: ast.Module) -> None:
        """The error classes' own codes: what `raise Conflict()` answers, so in use by their definition."""
        if where == "vibue/core/errors.py":
            self.uses += [Use(cls.code, where, name, cls.status) for name, cls in ERROR_CLASSES.items()]

    def _classes(self, where: str, tree: ast.Module) -> None:
        """Subclasses of the domain errors, with the code they raise by default."""
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef):
                continue
            bases = [self.classes.get(_name(base) or "") for base in node.bases]
            base = next((cls for cls in bases if cls is not None), None)
            if base is None or where == "vibue/core/errors.py":
                continue
            status, code = base.status, base.code
            for item in node.body:
                if isinstance(item, ast.Assign) and len(item.targets) == 1 and isinstance(item.value, ast.Constant):
                    target, value = _name(item.targets[0]), item.value.value
                    if target == "status" and isinstance(value, int):
                        status = value
                    elif target == "code" and isinstance(value, str):
                        code = value
            local = type(node.name, (base,), {"status": status, "code": code})
            self.classes[node.name] = local
            self.uses.append(Use(code, f"{where}:{node.lineno}", node.name, status))

    def _calls(self, where: str, tree: ast.Module) -> None:
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            at = f"{where}:{node.lineno}"
            name = _name(node.func) or ""
            for keyword in node.keywords:
                if keyword.arg == "errors":
                    self.http_modules.add(where)
                    if not isinstance(keyword.value, ast.Tuple):
                        self.unreadable.append(f"{at} errors=")
                        continue
                    for element in keyword.value.elts:
                        codes = _constants(element)
                        if codes is None:
                            self.unreadable.append(f"{at} errors=")
                        self.uses += [Use(code, at, "errors=") for code in codes or []]
            if name == "path_id":
                self.uses += [Use(code, at, "NotFound", 404) for code in _path_id_codes(node) or []]
                continue
            if name in self.classes:
                cls = self.classes[name]
                args = node.args[1:] if issubclass(cls, errors.RateLimited) else node.args  # (retry_after, code)
                given = args[0] if args else next((k.value for k in node.keywords if k.arg == "code"), None)
                if given is None:
                    self.uses.append(Use(cls.code, at, name, cls.status))
                    continue
                self._code(given, at, name, cls.status)
            elif name in SOCKET_HELPERS | CONNECT_HELPERS and node.args:
                self._code(node.args[0], at, name)
            elif name == "error_response" and len(node.args) >= 3:
                self.http_modules.add(where)
                if where == "vibue/web/middleware.py" and isinstance(node.args[2], ast.Name):
                    continue  # aiohttp's own errors, named through HTTP_CODES (checked on its own below)
                self._code(node.args[2], at, name)

    def reaches_http(self, use: Use) -> bool:
        path = use.where.split(":")[0]
        # documents/ answers HTTP through the port vibue/issued/ports.py (the clerk's preview and issue).
        return path.startswith(("vibue/", "documents/")) or path in self.http_modules

    def _code(self, node: ast.expr, at: str, how: str, status: int | None = None) -> None:
        codes = _constants(node)
        if codes is not None:
            self.uses += [Use(code, at, how, status) for code in codes]
        elif isinstance(node, ast.JoinedStr) and how == "NotFound" and at.startswith("vibue/catalog/routes.py"):
            pass  # path_id's f-string: its codes come from the path_id(...) calls (_path_id_codes)
        elif not _passes_code_on(node):
            self.unreadable.append(f"{at} {how}({ast.unparse(node)})")


@pytest.fixture(scope="module")
def scan() -> Scan:
    return Scan().run()


def test_the_scan_finds_the_codes_it_should(scan: Scan) -> None:
    """The scan itself: it sees the kinds of raise sites this test is about."""
    found = {(use.code, use.how) for use in scan.uses}
    assert ("booking_not_found", "NotFound") in found
    assert ("rate_limited", "RateLimited") in found  # RateLimited(retry_after=...) raises its default
    assert ("connection_test_busy", "Busy") in found  # a subclass with its own code
    assert ("unit_not_found", "NotFound") in found  # path_id's f-string
    assert ("reservation_expired", "Conflict") in found  # "a" if cond else "b"
    assert ("not_admitted", "Refused") in found
    assert ("forbidden_origin", "_refusal") in found
    assert ("token_expired", "TokenError") in found
    assert ("database_unavailable", "error_response") in found
    assert ("identity_code_wrong", "errors=") in found


def test_every_code_is_built_from_literals(scan: Scan) -> None:
    """A code from a variable or an f-string would slip past this test: write the literal."""
    assert scan.unreadable == []


def test_every_code_the_server_uses_is_registered(scan: Scan) -> None:
    used = [use for use in scan.uses if use.code not in CODES]
    used += [Use(code, "vibue/web/middleware.py HTTP_CODES", "HTTP_CODES") for code in HTTP_CODES.values()]
    assert [f"{use.where} {use.how}({use.code!r})" for use in used if use.code not in CODES] == []


def test_every_registered_code_is_used(scan: Scan) -> None:
    used = {use.code for use in scan.uses} | set(HTTP_CODES.values())
    assert sorted(set(CODES) - used) == []


def test_codes_keep_their_registered_status(scan: Scan) -> None:
    """Raised over HTTP with the status the list (and so the OpenAPI document) gives it.

    Everything in vibue/ and documents/ may reach HTTP; in signaling/ only the modules that declare routes do.
    """
    wrong = [
        f"{use.where} {use.how}({use.code!r}) answers {use.status}, the list says {CODES[use.code].status}"
        for use in scan.uses
        if use.status is not None
        and use.code in CODES
        and scan.reaches_http(use)
        and CODES[use.code].status != use.status
    ]
    wrong += [f"HTTP_CODES[{status}] = {code!r}" for status, code in HTTP_CODES.items() if CODES[code].status != status]
    assert wrong == []


def test_routes_declare_http_codes_only(scan: Scan) -> None:
    declared = {use.code for use in scan.uses if use.how == "errors="}
    assert sorted(code for code in declared if code in CODES and not CODES[code].http) == []


def test_socket_codes_are_marked(scan: Scan) -> None:
    """What signaling answers events with is marked socket; what refuses a connection, connect."""
    events = {use.code for use in scan.uses if use.how in SOCKET_HELPERS}
    refusals = {use.code for use in scan.uses if use.how in CONNECT_HELPERS}
    # Domain errors raised in signaling's socket modules (rooms.py) reach an ack or a refusal.
    events |= {use.code for use in scan.uses if use.status is not None and not scan.reaches_http(use)}
    assert sorted(code for code in events if not (CODES[code].socket or CODES[code].connect)) == []
    assert sorted(code for code in refusals if not CODES[code].connect) == []


@pytest.mark.parametrize("lang", ["de", "en"])
def test_every_code_has_its_message(lang: str) -> None:
    messages = catalog(lang)
    # HTTP answers and socket acks say error.<code>; a refused connection says error.socket_<code>.
    wanted = [f"error.{code}" for code, entry in CODES.items() if entry.http or entry.socket]
    wanted += [f"error.socket_{code}" for code, entry in CODES.items() if entry.connect]
    # A counted message is stored as its plural forms (error.<code>.one, error.<code>.other).
    assert [key for key in wanted if not (messages.get(key) or messages.get(f"{key}.other"))] == []


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_catalog_holds_no_message_for_an_unknown_code(lang: str) -> None:
    keys = [key.removeprefix("error.") for key in catalog(lang) if key.startswith("error.")]
    keys = [re.sub(r"\.(one|other)$", "", key) for key in keys]
    assert sorted(key for key in keys if key.removeprefix("socket_") not in CODES) == []


def test_field_message_keys_exist() -> None:
    """`field.*` keys (validators' ValueError("field.x"), fields={...}) are messages, not codes: they must exist."""
    keys: set[str] = set()
    for source in SOURCES:
        for path in (ROOT / source).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    keys.update(re.findall(r"^field\.[a-z_]+$", node.value))
    for lang in ("de", "en"):
        assert sorted(key for key in keys if key not in catalog(lang)) == [], lang
