"""Small pieces every backend maps with: what is in an order, the parcel's last news,
days since a date. The words are the shop owner's (data/shop/order_backends.yml)."""

from datetime import datetime, timezone
import re
from typing import Dict, Iterable, Optional, Tuple

from actions.backends.mapping import tables
from contract.words import Texts


def items_text(lines: Iterable[Tuple[str, int]]) -> Dict[str, str]:
    """ "glass tumbler set ×2, teapot": the names are the shop's own, in every language."""
    shown = ", ".join(f"{name} ×{quantity}" if quantity > 1 else name for name, quantity in lines if name)
    return {"en": shown, "vi": shown}


def _texts(entry: Texts, **values: str) -> Dict[str, str]:
    return {lang: entry[lang].format(**values) for lang in ("en", "vi")}


def last_scan(shipped: bool, tracking_number: str = "") -> Dict[str, str]:
    """What the bot says about the parcel: its tracking number, or that it has none yet,
    or that it has not been shipped."""
    said = tables().words
    if not shipped:
        return _texts(said.not_shipped)
    if tracking_number:
        return _texts(said.tracking, number=tracking_number)
    return _texts(said.no_tracking)


def parse_time(value: Optional[str]) -> Optional[datetime]:
    """An ISO 8601 time from an API (with Z or an offset; none: UTC)."""
    if not value:
        return None
    text = str(value).strip().replace("Z", "+00:00").replace(" ", "T", 1)
    # Python 3.10 reads only 3 or 6 digits of a second's fraction ("07:29:20.1Z" is valid ISO).
    text = re.sub(r"\.(\d+)", lambda m: "." + (m.group(1) + "000000")[:6], text)
    try:
        found = datetime.fromisoformat(text)
    except ValueError:
        return None
    return found if found.tzinfo else found.replace(tzinfo=timezone.utc)


def days_since(value: Optional[str], now: Optional[datetime] = None) -> Optional[int]:
    when = parse_time(value)
    if when is None:
        return None
    return max(0, ((now or datetime.now(timezone.utc)) - when).days)
