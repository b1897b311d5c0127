"""A hub of a browser module's own, with the settings that module needs."""

from typing import Iterator


def own_hub(assistant, **env: str) -> Iterator[str]:
    """For a module-scoped fixture: stops any hub another browser module left running,
    starts one with `env`, yields its URL, and stops it after the module."""
    assistant.stop_process("hub")
    assistant.start_hub(**env)
    yield assistant.hub_url
    assistant.stop_process("hub")
