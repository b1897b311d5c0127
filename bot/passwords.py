"""Agent passwords, hashed with scrypt (from the standard library). Signed tokens are
in bot/signing.py.

    python -m bot.passwords NAME      # asks for a password, prints NAME:scrypt$... for HUB_AGENTS
"""

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


def main(argv) -> int:
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    password = getpass.getpass(f"password for {argv[0]}: ")
    print(f"{argv[0]}:{hash_password(password)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
