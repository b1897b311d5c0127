"""How the actions put the playbook's words to the customer: a text in their language,
lists ("a, b or c"), stored details masked, and buttons."""

from typing import Dict, List, Mapping, Optional, Union

from actions.playbook import Remedy, shop_playbook
from actions.tracker import known
from contract.identity import mask_email, mask_phone
from contract.words import Texts, pick


def text(entry: Optional[Union[Texts, Mapping[str, str]]], lang: str) -> str:
    """The text in `lang`, else in English ("" for none)."""
    return pick(entry, lang) if entry else ""


def join_options(options: List[str], lang: str, phrase: str = "one_of") -> str:
    """ "a, b, or c" (phrase "one_of") or "a, b and c" ("all_of"), in the customer's language."""
    if len(options) <= 1:
        return "".join(options)
    return ", ".join(options[:-1]) + text(getattr(shop_playbook().phrases, phrase), lang) + options[-1]


def describe_details(details: Dict[str, str], lang: str) -> str:
    """Stored details as the customer may see them: contact details masked."""
    masks = {"email": mask_email, "phone": mask_phone}
    phrases = shop_playbook().phrases
    parts = [
        text(getattr(phrases, k), lang).replace("{}", masks.get(k, str)(v))
        for k, v in details.items()
        if k in ("order_id", "email", "phone") and known(v)
    ]
    return join_options(parts, lang, "all_of")


def label(name: str, lang: str) -> str:
    """One of the playbook's button labels (LABELS)."""
    return text(shop_playbook().labels[name], lang)


def person_button(lang: str) -> Dict[str, str]:
    return {"title": label("talk_to_person", lang), "payload": "/request_human"}


def yes_no_buttons(lang: str, no: str) -> List[Dict[str, str]]:
    """ "Yes, that one" (/affirm) and the label `no` (/deny)."""
    return [
        {"title": label("yes_that_one", lang), "payload": "/affirm"},
        {"title": label(no, lang), "payload": "/deny"},
    ]


def offer_buttons(remedies: List[Remedy], lang: str) -> List[Dict[str, str]]:
    """One button per remedy offered, and one for a person."""
    buttons = [
        {"title": text(r.label, lang), "payload": '/choose_remedy{"remedy": "%s"}' % r.id} for r in remedies
    ]
    return buttons + [person_button(lang)]
