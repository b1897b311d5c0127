"""The shop's help pages as the hub holds them, shared by the agent console's search
(bot/console/help.py) and the public page (bot/channels/help_page.py): read once per
process from HELP_PAGES_DIR (contract/help.py), like the action server reads them."""

from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Tuple

from contract.help import Groups, Lexical, Section, help_dir, load_pages, load_words


@lru_cache(maxsize=4)
def _pages_of(folder: Path) -> Tuple[Dict[str, List[Section]], Groups, Dict[str, Lexical]]:
    return load_pages(folder), load_words(folder), {}


def help_pages() -> Tuple[Dict[str, List[Section]], Groups, Dict[str, Lexical]]:
    """The pages by language, their groups of words, and the BM25 tables (filled on use)."""
    return _pages_of(help_dir().resolve())


def section_id(section: Section) -> str:
    """The section's anchor on its page: "where-we-deliver"."""
    return section.anchor.split("#", 1)[1]


def link(section: Section) -> str:
    """Where the section is on the hub's public help page."""
    return f"/help/{section.language}/{section.page}#{section_id(section)}"
