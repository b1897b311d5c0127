"""Values signed with the hub's secret (HMAC-SHA256): the agent session cookie, widget
session ids and resume links. A token not issued under this secret reads as None."""

import base64
import hashlib
import hmac
from typing import Optional


def sign(value: str, secret: str) -> str:
    mac = hmac.new(secret.encode(), value.encode(), hashlib.sha256).digest()
    return f"{value}.{base64.urlsafe_b64encode(mac[:18]).decode()}"


def unsign(token: str, secret: str) -> Optional[str]:
    """The signed value, or None if the token was not issued with this secret."""
    if not isinstance(token, str) or "." not in token:
        return None
    value, _, _ = token.rpartition(".")
    try:
        expected = sign(value, secret).encode()
    except UnicodeEncodeError:  # a lone surrogate: no token of ours
        return None
    # Bytes: compare_digest refuses a non-ASCII str, and a cookie may hold anything.
    return value if hmac.compare_digest(expected, token.encode("utf-8", "surrogateescape")) else None
