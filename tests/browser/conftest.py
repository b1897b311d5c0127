"""The browser modules' hub: one fixture owns its life."""

import pytest


@pytest.fixture(scope="module")
def browser_hub(assistant, request):
    """A hub process (python -m bot) of the module's own, on the session's Rasa, action
    server and Redis, with the settings in the module's HUB_ENV; its URL. Started for
    the module and stopped after it, whatever order the modules run in."""
    env = getattr(request.module, "HUB_ENV", {})
    assistant.start_hub(**env)  # refuses to start while another hub runs (scripts/stack.py)
    try:
        yield assistant.hub_url
    finally:
        assistant.stop_process("hub")
