"""Agent passwords (scrypt, from the standard library) and signed tokens (HMAC-SHA256).

    python -m bot.passwords NAME      # asks for a password, prints NAME:scrypt$... for HUB_AGENTS
"""

import base64
import getpass
import hashlib
import hmac
import secrets
import sys

N, R, P = 16384, 8, 1


def hash_password(password: str, salt: bytes = b"") -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=N, r=R, p=P, dklen=32)
    return f"scrypt${N}${R}${P}${salt.hex()}${digest.hex()}"


def check_password(password: str, hashed: str) -> bool:
    try:
        _, n, r, p, salt, expected = hashed.split("$")
        digest = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r),
                                p=int(p), dklen=len(bytes.fromhex(expected)))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest.hex().encode(), expected.encode("utf-8", "surrogateescape"))


def sign(value: str, secret: str) -> str:
    mac = hmac.new(secret.encode(), value.encode(), hashlib.sha256).digest()
    return f"{value}.{base64.urlsafe_b64encode(mac[:18]).decode()}"


def unsign(token: str, secret: str):
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


def main(argv) -> int:
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    password = getpass.getpass(f"password for {argv[0]}: ")
    print(f"{argv[0]}:{hash_password(password)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
