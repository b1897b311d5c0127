"""The shop's help pages for agents, searched the way the assistant reads them (the same
pages, contract/help.py; lexical only here: the hub does not load the sentence vectors):

    GET /api/agent/help?q=...&lang=en|vi    the best sections: the page's title, the
        section's heading and text as the customer would be sent it, and a link to the
        section on the hub's public help page (/help/{lang}/{page}#{section}), to answer a
        customer with the shop's own words and a link.
"""

from typing import Any, Dict

from aiohttp import web

from bot.web.help_pages import help_pages, link
from bot.web.http import json_error
from contract.help import Section, search
from contract.language import LANGUAGES

MAX_QUERY = 200
RESULTS = 5


def found(section: Section, score: float) -> Dict[str, Any]:
    return {**section.as_dict(), "score": score, "link": link(section)}


async def search_help(request: web.Request) -> web.Response:
    query = request.query.get("q", "").strip()
    if not query or len(query) > MAX_QUERY:
        raise json_error(400, f"'q' must be 1 to {MAX_QUERY} characters")
    language = request.query.get("lang") or None
    if language is not None and language not in LANGUAGES:
        raise json_error(400, f"'lang' must be one of {', '.join(LANGUAGES)}")
    pages, groups, indexes = help_pages()
    results = search(pages, query, language, limit=RESULTS, indexes=indexes, groups=groups)
    return web.json_response({"query": query, "results": [found(s, score) for s, score in results]})
