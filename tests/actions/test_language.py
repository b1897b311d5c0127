"""The language slot (actions/language.py): the page's language counts until the customer
writes something telling."""

from actions.language import ValidateSlotMappings
from tests.actions.helpers import tracker


async def _language(metadata, detected=None, slot=None):
    trk = tracker("lang", "/greet", "greet", metadata=metadata, language=slot)
    trk.latest_message["language"] = detected
    return await ValidateSlotMappings().extract_language(None, trk, {})


async def test_the_page_language_sets_the_first_greeting_s_language():
    assert await _language({"page_language": "vi"}) == {"language": "vi"}
    assert await _language({"page_language": "fr"}) == {}  # not ours: ignored
    assert await _language({}) == {}
    # What the customer writes wins over the page, and a set language stays.
    assert await _language({"page_language": "vi"}, detected="en") == {"language": "en"}
    assert await _language({"page_language": "vi"}, slot="en") == {}


async def test_the_slot_is_set_without_the_domain():
    # Rasa sends this action no domain (endpoints.yml enable_selective_domain): the action
    # run as Rasa calls it still sets the slot.
    from rasa_sdk.executor import CollectingDispatcher

    trk = tracker("lang", "xin chào", "greet", metadata={}, language="en")
    trk.latest_message["language"] = "vi"
    events = await ValidateSlotMappings().run(CollectingDispatcher(), trk, {})
    assert [(e["event"], e["name"], e["value"]) for e in events] == [("slot", "language", "vi")]
