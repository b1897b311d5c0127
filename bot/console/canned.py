"""Canned replies (data/hub/canned.yml): checked at hub start-up (contract/words.py: a
mistake is refused with the file, the line and what is wrong: a missing language, a
duplicate id, or a placeholder other than PLACEHOLDERS), served to the console filled in
for one conversation: the text in the customer's language with the placeholders this
conversation knows filled in; the ones it does not know stay as "{name}" and are listed
in "missing".
"""

from pathlib import Path
import string
from typing import Any, Dict, List, Optional, Tuple

from aiohttp import web
from pydantic import BaseModel, conlist, constr

from bot.console.appkeys import CANNED
from bot.console.conversations import conversation_of
from bot.paths import HUB_WORDS
from bot.web.appkeys import OUTBOX
from contract import words
from contract.language import spoken

CANNED_FILE = HUB_WORDS / "canned.yml"
PLACEHOLDERS = ("name", "order_id", "case", "agent")


class ReplyText(words.Texts):
    _only = words.only_placeholders(*PLACEHOLDERS)


class CannedError(words.WordFileError):
    """A bad canned-reply file; the message names the file and the line."""


class CannedReply(BaseModel):
    id: constr(regex=r"^[A-Za-z0-9_-]{1,40}$")  # type: ignore[valid-type]
    title: words.Texts
    text: ReplyText


class CannedFile(BaseModel):
    canned_replies: conlist(CannedReply, min_items=1)  # type: ignore[valid-type]


def _ids_once(book: CannedFile) -> List[words.Problem]:
    seen, problems = set(), []
    for i, reply in enumerate(book.canned_replies):
        if reply.id in seen:
            problems.append((("canned_replies", i, "id"), f"id {reply.id!r} is used twice"))
        seen.add(reply.id)
    return problems


def load(path: Optional[Path] = None) -> List[Dict[str, Any]]:
    book = words.load(path or CANNED_FILE, CannedFile, _ids_once, CannedError)
    return [reply.dict() for reply in book.canned_replies]


def fill(text: str, values: Dict[str, str]) -> Tuple[str, List[str]]:
    """The text with the known values in; an unknown one stays "{name}" (listed)."""
    out, missing = [], []
    for literal, field, _, _ in string.Formatter().parse(text):
        out.append(literal)
        if field is None:
            continue
        value = (values.get(field) or "").strip()
        if value:
            out.append(value)
        else:
            out.append(f"{{{field}}}")
            if field not in missing:
                missing.append(field)
    return "".join(out), missing


def values_for(conv, agent_name: str) -> Dict[str, str]:
    """What a conversation can fill in: the name only of a verified customer."""
    summary = conv.summary()
    return {
        "name": summary["customer_name"],
        "order_id": str(summary["order_id"] or ""),
        "case": str((conv.packet or {}).get("case_ref") or ""),
        "agent": agent_name,
    }


def for_conversation(replies: List[Dict[str, Any]], conv, agent_name: str) -> Dict[str, Any]:
    language = spoken(conv.language)
    values = values_for(conv, agent_name)
    out = []
    for reply in replies:
        text, missing = fill(reply["text"][language], values)
        out.append({"id": reply["id"], "title": reply["title"], "text": text, "missing": missing})
    return {"language": language, "replies": out}


async def canned_for(request: web.Request) -> web.Response:
    conv = await conversation_of(request)
    # {agent} is what customers see of the agent (their display name), never the login.
    name = request.config_dict[OUTBOX].public_name(request["agent"], conv.language)
    return web.json_response(for_conversation(request.config_dict[CANNED], conv, name))
