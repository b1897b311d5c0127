"""What the Rasa process does faster than Rasa 3.6.21 out of the box, with the same result.

Installed by contract/rasa_stores.py when Rasa loads the project's tracker store (which
endpoints.yml names), so every `rasa run` of this project has it; only Rasa imports it.
Each change replaces one Rasa method by one that returns and raises the same, and is made
only on the Rasa version it was read against (RASA_VERSION): on another, Rasa's own code
stays and a warning says so.

- **The action server's answer is checked with a validator built once.** Rasa checks
  every answer against its response schema with `jsonschema.validate`
  (`RemoteAction._validate_action_result`), which first checks the schema itself against
  the 2020-12 metaschema: about 20 ms of CPU per call, and a message makes about three
  calls (issue 29: the largest single cost of a turn, docs/benchmarks.md "CPU per
  message, stage by stage"). Here the schema is checked once per process and each answer
  costs a fraction of a millisecond; the errors are jsonschema's same best match, with
  Rasa's same hint appended.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, Optional, Text

log = logging.getLogger(__name__)

RASA_VERSION = "3.6.21"

_validator: Optional[Any] = None


def response_validator() -> Any:
    """The jsonschema validator of Rasa's action server response schema, checked once."""
    global _validator
    if _validator is None:
        from jsonschema.validators import validator_for
        from rasa.core.actions.action import RemoteAction

        schema = RemoteAction.action_response_format_spec()
        cls = validator_for(schema)
        cls.check_schema(schema)  # what jsonschema.validate does on every call
        _validator = cls(schema)
    return _validator


def validate_action_result(self: Any, result: Dict[Text, Any]) -> bool:
    """RemoteAction._validate_action_result, with the validator built once."""
    from jsonschema.exceptions import best_match
    from rasa.shared.constants import DOCS_BASE_URL

    error = best_match(response_validator().iter_errors(result))
    if error is None:
        return True
    # Rasa's own words (rasa/core/actions/action.py), so the log reads the same.
    error.message += (
        f". Failed to validate Action server response from API, "
        f"make sure your response from the Action endpoint is valid. "
        f"For more information about the format visit "
        f"{DOCS_BASE_URL}/custom-actions"
    )
    raise error


def install() -> bool:
    """Put the faster methods in place (once); False when Rasa is not RASA_VERSION."""
    import rasa
    from rasa.core.actions.action import RemoteAction

    if rasa.__version__ != RASA_VERSION:
        log.warning(
            "contract.rasa_runtime was written against Rasa %s, this is %s: Rasa's own "
            "(slower) code stays in place",
            RASA_VERSION,
            rasa.__version__,
        )
        return False
    RemoteAction._validate_action_result = validate_action_result
    return True
