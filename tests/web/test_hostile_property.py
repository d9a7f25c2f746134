"""Every JSON endpoint answers hostile input with a 4xx in the one error shape (hypothesis).

Bodies are composed as raw JSON text, so they can hold what Python's json cannot write: numbers of
thousands of digits, nesting deeper than its recursion limit. Each body holds at least one hostile
value (deep nesting, a huge number, NUL, a lone surrogate, bidi controls, an RFC 2047 encoded
word, a 64 KB string), so no example may be accepted. Derandomized: CI sees the same examples.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

import signaling
from tests.helpers import csrf_headers, sign_in_demo
from tests.web.test_bad_input import assert_error_shape
from vibue.app import create_app
from vibue.core.clock import ManualClock
from vibue.core.settings import Settings
from vibue.web.appkeys import ENDPOINTS
from vibue.web.routing import Endpoint

EXAMPLES = 25  # per endpoint and database: about 15 s for all of them on 2 cores
TOKEN = "A" * 24  # a well-formed booking or invitation token that matches nothing


def _endpoints() -> list[Endpoint]:
    """The endpoints that take a JSON body or a query, from the app as run.py composes it."""
    app = create_app(
        Settings(data_dir="/nonexistent", secret_key="x" * 40), setups=[signaling.setup]
    )  # never started: only its table
    return [e for e in app[ENDPOINTS] if e.body is not None or e.query is not None]


ENDPOINTS_TAKING_INPUT = _endpoints()


def to_json(text: str) -> str:
    """A JSON string as a browser would send it: UTF-8 as is, lone surrogates as \\u escapes."""
    return re.sub("[\ud800-\udfff]", lambda m: f"\\u{ord(m.group()):04x}", json.dumps(text, ensure_ascii=False))


HOSTILE_WORDS = [
    "\x00",
    "a\x00b",
    "\u202eevil\u202c",
    "\u2066x\u2069",
    "\u200f\u200e",
    "\ufeff",
    "=?utf-8?q?a=0D=0ABcc:x@y?=",
    "=?utf-8?b?DQpCY2M6IHhAeQ==?=",
    "\r\nX-Injected: 1",
    "\ud800",
    "\udfff",
    "a\udc80b",
]
hostile_text = st.one_of(
    st.sampled_from(HOSTILE_WORDS),
    st.tuples(st.text(max_size=12), st.sampled_from(HOSTILE_WORDS), st.text(max_size=12)).map("".join),
    st.text(st.characters(categories=["Cs", "Cc", "Cf"]), min_size=1, max_size=20),
    # About 64 KB once written: just below and just above the body limit.
    st.tuples(st.sampled_from(["x", "ä", "\x00", "\u202e"]), st.integers(62_000, 66_000)).map(
        lambda p: p[0] * (p[1] // len(to_json(p[0]).strip('"').encode()))
    ),
)
huge_number = st.one_of(
    st.integers(41, 6_000).map(lambda n: "9" * n),
    st.integers(41, 6_000).map(lambda n: "-" + "1" * n),
    st.integers(41, 6_000).map(lambda n: "1" * n + ".5"),
    st.sampled_from(["1e99999", "-1e99999", "NaN", "Infinity"]),
)
deep = st.one_of(
    st.integers(33, 3_000).map(lambda n: "[" * n + "]" * n),
    st.integers(33, 3_000).map(lambda n: '{"a":' * n + "1" + "}" * n),
)
hostile_fragment = st.one_of(hostile_text.map(to_json), huge_number, deep)
benign_fragment = st.sampled_from(["1", "true", "null", '"2026-11-30T08:00:00+01:00"', '"123456"', '"de"', "[]"])


@st.composite
def hostile_body(draw: st.DrawFn, fields: list[str]) -> bytes:
    """A JSON object naming the model's fields (and others), at least one of them hostile."""
    if draw(st.integers(0, 9)) == 0:  # now and then the whole body is the hostile value
        return draw(hostile_fragment).encode()
    key = st.one_of(st.sampled_from(fields), hostile_text) if fields else hostile_text
    members = [(draw(key), draw(hostile_fragment))]
    members += draw(st.lists(st.tuples(key, st.one_of(benign_fragment, hostile_fragment)), max_size=4))
    order = draw(st.permutations(members))
    return ("{" + ", ".join(f"{to_json(k)}: {v}" for k, v in order) + "}").encode()


@st.composite
def hostile_query(draw: st.DrawFn, fields: list[str]) -> str:
    """A query string naming the model's fields, at least one of them hostile (percent-encoded)."""
    values = st.one_of(hostile_text.filter(lambda t: len(t) < 2_000), huge_number.filter(lambda t: len(t) < 2_000))
    pairs = [(draw(st.sampled_from(fields)), draw(values))]
    pairs += draw(st.lists(st.tuples(st.sampled_from(fields), st.one_of(st.just("1"), values)), max_size=3))
    return "&".join(f"{quote(k)}={quote(v.encode('utf-8', 'surrogatepass'), safe='')}" for k, v in pairs)


def concrete_path(endpoint: Endpoint) -> str:
    return re.sub(r"\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\}", TOKEN, endpoint.path)


@pytest.fixture
async def staff_client(aiohttp_client: Any, settings: Settings, clock: ManualClock) -> TestClient[Any, Any]:
    """The app as run.py composes it (connection-test routes included), an admin signed in."""
    client: TestClient[Any, Any] = await aiohttp_client(create_app(settings, clock=clock, setups=[signaling.setup]))
    await sign_in_demo(client, "admin")
    return client


async def assert_refused(response: Any, what: str) -> None:
    assert 400 <= response.status < 500, (what, response.status, (await response.text())[:300])
    assert response.content_type == "application/json", what
    assert_error_shape(await response.json(), (await response.json())["error"]["code"])


@pytest.mark.parametrize("endpoint", ENDPOINTS_TAKING_INPUT, ids=lambda e: f"{e.method} {e.path}")
async def test_hostile_input_is_refused_in_the_error_shape(
    staff_client: TestClient[Any, Any], endpoint: Endpoint
) -> None:
    path = concrete_path(endpoint)
    headers = {**(await csrf_headers(staff_client)), "Content-Type": "application/json"}
    fields = sorted((endpoint.body or endpoint.query).model_fields)  # type: ignore[union-attr]

    @hypothesis_settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    )
    @given(data=st.data())
    def drawn(data: st.DataObject) -> None:
        if endpoint.body is not None:
            examples.append(("body", data.draw(hostile_body(fields))))
        else:
            examples.append(("query", data.draw(hostile_query(fields)).encode()))

    # Hypothesis draws in a plain function; the requests run on the test's event loop afterwards.
    examples: list[tuple[str, bytes]] = []
    drawn()
    for kind, payload in examples:
        if kind == "body":
            response = await staff_client.request(endpoint.method, path, data=payload, headers=headers)
        else:
            response = await staff_client.request(endpoint.method, f"{path}?{payload.decode()}", headers=headers)
        await assert_refused(response, f"{endpoint.method} {path} {payload[:120]!r}")
