"""Where the hub finds its files: the project's data and the hub's pages."""

from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
STATIC = PROJECT / "bot" / "static"  # the shop page, the console, their scripts
TEMPLATES = PROJECT / "bot" / "templates"  # pages rendered on the server (Jinja2)
HUB_WORDS = PROJECT / "data" / "hub"  # what the hub says: messages, console, canned replies
SHOP = PROJECT / "data" / "shop"  # the owner's playbook and the demo orders
