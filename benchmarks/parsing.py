"""Parsing many messages with a trained model, in-process and quietly."""

import asyncio
import gc
import logging
from pathlib import Path
from typing import Any, Dict, List, Sequence


def quiet_rasa() -> None:
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)  # no per-message debug lines


def parse_all(model: Path, texts: Sequence[str]) -> List[Dict[str, Any]]:
    """Rasa's parse result (intent, entities, ...) for each text."""
    from rasa.core.agent import Agent

    quiet_rasa()
    agent = Agent.load(str(model))
    try:
        return asyncio.run(_parse(agent, texts))
    finally:
        del agent
        gc.collect()


async def _parse(agent: Any, texts: Sequence[str]) -> List[Dict[str, Any]]:
    return [await agent.parse_message(text) for text in texts]
