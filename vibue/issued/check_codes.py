"""Document ids and their check codes ("Prüfcode").

The check code is HMAC-SHA256(secret_key, "check:" + id), its first 50 bits as 10 Crockford
base32 characters (XXXX-XXXX-XX): it can be printed and shown again at any time, and is never
stored, so a copy of the database alone cannot produce a passing check.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

# Crockford's base32: no I, L, O, U, so a code read off paper is not misread.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 10
# Read leniently, as Crockford suggests: O is 0, I and L are 1; case, spaces and hyphens ignored.
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
DOCUMENT_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")
DOCUMENT_ID_PATTERN = "[A-Za-z0-9_-]{22}"


def new_document_id() -> str:
    """128 random bits, URL-safe (22 characters)."""
    return secrets.token_urlsafe(16)


def check_code(secret: str, document_id: str) -> str:
    digest = hmac.new(secret.encode(), f"check:{document_id}".encode(), hashlib.sha256).digest()
    bits = int.from_bytes(digest[:7], "big") >> (56 - 5 * LENGTH)
    chars = "".join(ALPHABET[(bits >> (5 * (LENGTH - 1 - i))) & 31] for i in range(LENGTH))
    return f"{chars[:4]}-{chars[4:8]}-{chars[8:]}"


def normalise(code: str) -> str:
    return re.sub(r"[\s-]", "", code).upper().translate(_READ_AS)


def matches(secret: str, document_id: str, given: str) -> bool:
    """Constant-time comparison of a code as typed with the document's own."""
    expected = normalise(check_code(secret, document_id)).encode()
    return hmac.compare_digest(expected, normalise(given)[: LENGTH * 2].encode())
