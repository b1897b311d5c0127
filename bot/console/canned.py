"""Canned replies (data/hub/canned.yml): checked at hub start-up, served to the console
filled in for one conversation.

The owner edits the file, so a mistake is refused at start-up with the file, the line
and what is wrong (as the playbook is): a missing language, a duplicate id, or a
placeholder other than PLACEHOLDERS.

    GET /api/agent/conversations/{id}/canned   the replies, text in the customer's
        language with the placeholders this conversation knows filled in; the ones it
        does not know stay as "{name}" and are listed in "missing"
"""

from pathlib import Path
import re
import string
from typing import Any, Dict, List, NoReturn, Optional, Tuple

from aiohttp import web
import yaml

from bot.console.appkeys import CANNED
from bot.console.conversations import conversation_of
from bot.paths import HUB_WORDS
from bot.web.appkeys import OUTBOX
from contract.language import LANGUAGES

CANNED_FILE = HUB_WORDS / "canned.yml"
PLACEHOLDERS = ("name", "order_id", "case", "agent")
ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


class CannedError(ValueError):
    """A bad canned-reply file; the message names the file and the line."""


def _fail(path: Path, node: yaml.Node, problem: str) -> NoReturn:
    raise CannedError(f"{path}, line {node.start_mark.line + 1}: {problem}")


def _mapping(path: Path, node: yaml.Node, what: str) -> Dict[str, yaml.Node]:
    if not isinstance(node, yaml.MappingNode):
        _fail(path, node, f"{what} must be a mapping")
    return {key.value: value for key, value in node.value}


def _pieces(path: Path, node: yaml.Node, text: str) -> List[Tuple[str, Optional[str]]]:
    """The text as (literal, placeholder or None) pieces; anything but a known,
    plain placeholder is refused."""
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as error:  # a lone "{" or "}"
        _fail(path, node, f"broken braces in {text!r} ({error}); write a literal brace as {{{{ or }}}}")
    for _, field, spec, conversion in parsed:
        if field is None:
            continue
        if field not in PLACEHOLDERS or spec or conversion:
            _fail(
                path,
                node,
                f"unknown placeholder {{{field}}}; use only " + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS),
            )
    return [(literal, field) for literal, field, _, _ in parsed]


def _texts(path: Path, node: yaml.Node, what: str, placeholders: bool) -> Dict[str, Any]:
    entries = _mapping(path, node, what)
    texts = {}
    for lang in LANGUAGES:
        value = entries.get(lang)
        if value is None:
            _fail(path, node, f"{what} lacks its '{lang}' text")
        if not isinstance(value, yaml.ScalarNode) or not str(value.value).strip():
            _fail(path, value, f"{what}.{lang} must be a non-empty text")
        texts[lang] = _pieces(path, value, value.value) if placeholders else value.value
    return texts


def load(path: Optional[Path] = None) -> List[Dict[str, Any]]:
    path = path or CANNED_FILE
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise CannedError(f"{path}: not valid YAML: {error}") from error
    if root is None:
        raise CannedError(f"{path}: empty; needs a 'canned_replies' list")
    top = _mapping(path, root, "the file")
    items = top.get("canned_replies")
    if not isinstance(items, yaml.SequenceNode) or not items.value:
        _fail(path, items or root, "needs 'canned_replies', a non-empty list")
    replies, seen = [], set()
    for item in items.value:
        fields = _mapping(path, item, "each canned reply")
        rid = fields.get("id")
        if not isinstance(rid, yaml.ScalarNode) or not ID_RE.match(str(rid.value)):
            _fail(path, rid or item, "'id' must be letters, digits, '_' or '-'")
        if rid.value in seen:
            _fail(path, rid, f"id {rid.value!r} is used twice")
        seen.add(rid.value)
        for key in ("title", "text"):
            if key not in fields:
                _fail(path, item, f"{rid.value}: lacks '{key}'")
        replies.append(
            {
                "id": rid.value,
                "title": _texts(path, fields["title"], f"{rid.value}.title", False),
                "text": _texts(path, fields["text"], f"{rid.value}.text", True),
            }
        )
    return replies


def fill(pieces: List[Tuple[str, Optional[str]]], values: Dict[str, str]) -> Tuple[str, List[str]]:
    """The text with the known values in; an unknown one stays "{name}" (listed)."""
    out, missing = [], []
    for literal, field in pieces:
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
    language = conv.language if conv.language in LANGUAGES else "en"
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
