"""The shop's help pages, public, as the assistant quotes them (contract/help.py):

GET /help/{lang}/{page}    one page (data/shop/help/<lang>/<page>.md): its title and
    its sections, each with an anchor (#where-we-deliver) that the agent console links
    to (bot/console/help.py).
"""

from aiohttp import web
import jinja2

from bot.paths import TEMPLATES
from bot.web.help_pages import help_pages, section_id
from contract.language import LANGUAGES

PAGES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
)


async def help_page(request: web.Request) -> web.Response:
    lang, page = request.match_info["lang"], request.match_info["page"]
    if lang not in LANGUAGES:
        raise web.HTTPNotFound()
    pages, _, _ = help_pages()
    sections = [s for s in pages.get(lang, []) if s.page == page]
    if not sections:
        raise web.HTTPNotFound()
    html = PAGES.get_template("help.html").render(
        lang=lang,
        title=sections[0].title,
        sections=[{"id": section_id(s), "heading": s.heading, "text": s.text} for s in sections],
    )
    return web.Response(text=html, content_type="text/html")
