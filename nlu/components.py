"""Custom Rasa NLU components, referenced by module path from config.yml.

- LanguageDetector: puts "language" ("en", "vi" or None) into the parse data
  (contract/language.py decides, for the hub as well).
- DetailExtractor: order_id / email / phone / remedy entities from nlu.details.
- VietnameseSegmentingTokenizer: whitespace tokens for English and for Vietnamese
  typed without marks; spaCy's Vietnamese word segmentation (pyvi) for Vietnamese
  with marks, so "khiếu nại" or "đơn hàng" is one token. Every token's lemma is its
  diacritic-folded form, so the count-vector featurizers (which read lemmas) see
  "hoàn tiền" and "hoan tien" as the same word. With `syllable_lemmas: true` a
  Vietnamese message is instead one token per folded syllable, chat abbreviations spelled
  out (nlu/vietnamese.py), so marked and unmarked forms give the same tokens.
- RatingRecognizer: a message that is only a 1-5 score is the intent `rate`.
"""

from __future__ import annotations

from functools import lru_cache
import re
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from contract.intents import DECLINES_OFFER, REFUSED_REMEDIES
from contract.language import detect_language
from contract.text import fold, has_vietnamese_marks
from nlu.details import extract_details, refused_remedies, turns_offer_down
from nlu.vietnamese import vietnamese_lemmas

LANGUAGE_KEY = "language"


class _StatelessComponent(GraphComponent):
    """Nothing to train or persist: the component is built from its config alone."""

    def __init__(self, config: Dict[Text, Any]) -> None:
        self._config = config

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> GraphComponent:
        return cls(config)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class LanguageDetector(_StatelessComponent):
    """Adds the message's language to its parse data (None when undecided), by the
    decision the hub makes too (contract/language.py); the `language` slot keeps the
    last clear one (actions/language.py)."""

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            if text:
                message.set(LANGUAGE_KEY, detect_language(text), add_to_output=True)
        return messages


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class DetailExtractor(_StatelessComponent, EntityExtractorMixin):
    """Rule-based entities: order_id, email, phone, remedy (see nlu/details.py); and
    whether the message turns an offer down and which remedies it refuses, in the parse
    data (`DECLINES_OFFER`, `REFUSED_REMEDIES`)."""

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not text or text.startswith("/"):
                continue  # button payloads carry their own entities
            found = self.add_extractor_name(extract_details(text))
            message.set(ENTITIES, message.get(ENTITIES, []) + found, add_to_output=True)
            message.set(DECLINES_OFFER, turns_offer_down(text), add_to_output=True)
            message.set(REFUSED_REMEDIES, refused_remedies(text), add_to_output=True)
        return messages


@lru_cache(maxsize=1)
def _vietnamese_nlp():
    import spacy

    # Blank Vietnamese: tokenizer only (word segmentation through pyvi), no weights.
    return spacy.blank("vi")


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class VietnameseSegmentingTokenizer(WhitespaceTokenizer):
    """Word-segments Vietnamese text; folds diacritics into every token's lemma."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**WhitespaceTokenizer.get_default_config(), "syllable_lemmas": False}

    @staticmethod
    def not_supported_languages() -> Optional[List[Text]]:
        return None

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        text = message.get(attribute)
        if attribute == TEXT and text and self._config.get("syllable_lemmas"):
            if has_vietnamese_marks(text) or detect_language(text) == "vi":
                return self._syllable_tokens(message, attribute)
        elif attribute == TEXT and text and has_vietnamese_marks(text):
            tokens = [
                Token(t.text, t.idx, lemma=fold(t.text).replace(" ", "_"))
                for t in _vietnamese_nlp()(text)
                if not t.is_space and not t.is_punct
            ]
            if tokens:
                return self._apply_token_pattern(tokens)
        tokens = super().tokenize(message, attribute)
        if attribute == TEXT:
            for token in tokens:
                token.lemma = fold(token.text)
        return tokens

    def _syllable_tokens(self, message: Message, attribute: Text) -> List[Token]:
        """One token per folded syllable; an abbreviation that stands for several
        syllables ("nv") gives one token per syllable, all over the same span."""
        tokens = []
        for word in super().tokenize(message, attribute):
            for lemma in vietnamese_lemmas(word.text):
                tokens.append(Token(word.text, word.start, word.end, lemma=lemma))
        return tokens or super().tokenize(message, attribute)


_RATING_RE = re.compile(r"^\s*([1-5])\s*(/\s*5|stars?|sao|điểm|diem)?\s*[.!]*\s*$", re.IGNORECASE)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class RatingRecognizer(_StatelessComponent):
    """A message that is only a score from 1 to 5 ("4", "5 stars", "3 sao") is a rating.

    A lone digit has too few features for DIET to tell it from an order number being
    typed, so this rule decides, and puts the score in a `rating` entity.
    """

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            match = _RATING_RE.match(message.get(TEXT) or "")
            if not match:
                continue
            intent = {"name": "rate", "confidence": 1.0}
            message.set(INTENT, intent, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [intent], add_to_output=True)
            rating = {
                "entity": "rating",
                "value": match.group(1),
                "start": match.start(1),
                "end": match.end(1),
                "extractor": self.__class__.__name__,
            }
            message.set(ENTITIES, message.get(ENTITIES, []) + [rating], add_to_output=True)
        return messages
