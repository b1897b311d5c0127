"""When will a person reply? From the team's opening hours (SUPPORT_HOURS, local time)."""

from datetime import datetime, time, timedelta, timezone
from typing import Tuple


def parse_hours(spec: str) -> Tuple[time, time]:
    start, _, end = spec.partition("-")
    return time.fromisoformat(start.strip()), time.fromisoformat(end.strip())


def reply_by(now: datetime, hours: Tuple[time, time], minutes: int, language: str) -> str:
    """"14:30 today" within opening hours (now + minutes), else the next opening time."""
    start, end = hours
    vi = language == "vi"
    if start <= now.time() < end:
        at = now + timedelta(minutes=minutes)
        return f"{at:%H:%M} hôm nay" if vi else f"{at:%H:%M} today"
    if now.time() < start:
        return f"{start:%H:%M} hôm nay" if vi else f"{start:%H:%M} today"
    return f"{start:%H:%M} sáng mai" if vi else f"{start:%H:%M} tomorrow"


def local_now(utc_offset_hours: float) -> datetime:
    return datetime.now(timezone(timedelta(hours=utc_offset_hours)))
