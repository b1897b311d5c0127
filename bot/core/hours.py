"""When will a person reply? From the team's opening hours (SUPPORT_HOURS, local time)."""

from datetime import datetime, time, timedelta, timezone
from typing import Tuple

from bot.core.texts import Texts


def parse_hours(spec: str) -> Tuple[time, time]:
    start, _, end = spec.partition("-")
    return time.fromisoformat(start.strip()), time.fromisoformat(end.strip())


def reply_by(now: datetime, hours: Tuple[time, time], minutes: int, language: str, texts: Texts) -> str:
    """ "14:30 today" within opening hours (now + minutes), else the next opening time
    (the words: data/hub/messages.yml reply_today / reply_tomorrow)."""
    start, end = hours
    if start <= now.time() < end:
        return texts.text("reply_today", language, time=f"{now + timedelta(minutes=minutes):%H:%M}")
    if now.time() < start:
        return texts.text("reply_today", language, time=f"{start:%H:%M}")
    return texts.text("reply_tomorrow", language, time=f"{start:%H:%M}")


def local_now(utc_offset_hours: float) -> datetime:
    return datetime.now(timezone(timedelta(hours=utc_offset_hours)))
