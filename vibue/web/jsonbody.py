"""The one JSON-body parser of the API: strict JSON, bounded nesting and number length.

Python's json module recurses once per nesting level (about 1,000 levels raise RecursionError)
and refuses integers over 4,300 digits with a ValueError; both escaped as 500s. Here the depth
is counted on the raw text before parsing, and numbers are measured as they are parsed, so
both are refused as `json_too_complex` (400) before any sign-in check or rate limit.
"""

from __future__ import annotations

import json
import re
from typing import Any

from vibue.core.errors import BadRequest

# No body of this API nests deeper than a handful of levels, nor needs a number longer than this.
MAX_DEPTH = 32
MAX_NUMBER_CHARS = 40

# Strings (with their escapes) are skipped when counting brackets: "[[[" inside a string is text.
_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*"|[\[{]|[\]}]', re.DOTALL)


class _TooComplex(Exception):
    pass


def _depth_ok(text: str) -> bool:
    depth = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        piece = match.group()
        if piece in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return False
        elif piece in "]}":
            depth -= 1
    return True


def _number(kind: type[int] | type[float]) -> Any:
    def parse(literal: str) -> int | float:
        if len(literal) > MAX_NUMBER_CHARS:
            raise _TooComplex
        value = kind(literal)
        if isinstance(value, float) and value in (float("inf"), float("-inf")):
            raise _TooComplex  # 1e999: a float too large to hold
        return value

    return parse


def _constant(name: str) -> Any:
    # NaN and Infinity are Python's extension, not JSON (RFC 8259).
    raise ValueError(name)


def parse_json(raw: bytes) -> Any:
    """The JSON value of a request body (UTF-8); BadRequest malformed_json or json_too_complex."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("malformed_json") from None
    if not _depth_ok(text):
        raise BadRequest("json_too_complex")
    try:
        return json.loads(text, parse_int=_number(int), parse_float=_number(float), parse_constant=_constant)
    except _TooComplex:
        raise BadRequest("json_too_complex") from None
    except ValueError:  # JSONDecodeError is a ValueError, and so is NaN above
        raise BadRequest("malformed_json") from None
