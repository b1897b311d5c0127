"""Keeps the `language` slot in step with the customer, message by message.

The NLU pipeline's LanguageDetector puts "language" into each message's parse data
("en", "vi", or None when the message gives no evidence, such as an email or an order
number). The slot only changes on a clear signal, so a bare number never flips it.
Until the customer has written anything telling, the page's language counts: the shop
page gives the widget its `lang`, and the hub passes it on as `metadata.page_language`,
so the first greeting on a Vietnamese page is in Vietnamese.
"""

from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import ValidationAction
from rasa_sdk.types import DomainDict

from contract.language import LANGUAGES


class ValidateSlotMappings(ValidationAction):
    def name(self) -> Text:
        return "action_validate_slot_mappings"

    def domain_slots(self, domain: DomainDict) -> List[Text]:
        # The one slot this action fills, named here: Rasa sends it no domain
        # (endpoints.yml enable_selective_domain), where rasa_sdk would look it up.
        return ["language"]

    async def extract_language(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        detected = tracker.latest_message.get("language")
        if detected in LANGUAGES and detected != tracker.get_slot("language"):
            return {"language": detected}
        page = (tracker.latest_message.get("metadata") or {}).get("page_language")
        if detected not in LANGUAGES and tracker.get_slot("language") is None and page in LANGUAGES:
            return {"language": page}
        return {}
