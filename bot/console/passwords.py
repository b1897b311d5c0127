"""Agent passwords, hashed with scrypt (from the standard library). Signed tokens are
in bot/signing.py.

    python -m bot.console.passwords NAME ["DISPLAY NAME"]
        asks for a password, prints NAME:scrypt$...[:DISPLAY NAME] for HUB_AGENTS

NAME is the login, which customers never see; DISPLAY NAME is what they see ("Lan from
our team has joined"), kept URL-quoted in HUB_AGENTS (a "," or ":" cannot break it).
Without one, customers read "A colleague" (data/hub/messages.yml agent_unnamed).
"""

import getpass
import hashlib
import hmac
import secrets
import sys
from urllib.parse import quote

N, R, P = 16384, 8, 1


def hash_password(password: str, salt: bytes = b"") -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=N, r=R, p=P, dklen=32)
    return f"scrypt${N}${R}${P}${salt.hex()}${digest.hex()}"


def check_password(password: str, hashed: str) -> bool:
    try:
        _, n, r, p, salt, expected = hashed.split("$")
        digest = hashlib.scrypt(
            password.encode(),
            salt=bytes.fromhex(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(bytes.fromhex(expected)),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest.hex().encode(), expected.encode("utf-8", "surrogateescape"))


def agent_entry(name: str, hashed: str, display: str = "") -> str:
    """One HUB_AGENTS entry (bot/settings.py parse_agents, parse_display_names)."""
    display = display.strip()
    return f"{name}:{hashed}" + (f":{quote(display, safe=' ')}" if display else "")


def main(argv) -> int:
    if len(argv) not in (1, 2) or not argv[0] or any(c in argv[0] for c in ",:"):
        print(
            "usage: python -m bot.console.passwords NAME [\"DISPLAY NAME\"]  (NAME without ',' or ':')",
            file=sys.stderr,
        )
        return 2
    password = getpass.getpass(f"password for {argv[0]}: ")
    print(agent_entry(argv[0], hash_password(password), argv[1] if len(argv) == 2 else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
