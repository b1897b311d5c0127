"""The Rasa process's faster paths (contract/rasa_runtime.py) give what Rasa 3.6's own
code gives."""

from jsonschema import ValidationError, validate
import pytest
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain

from contract import rasa_runtime
from tests.helpers import ROOT


@pytest.fixture(scope="module")
def rasa_domain():
    return Domain.load(str(ROOT / "domain.yml"))


def test_the_action_server_answer_is_checked_as_rasa_checks_it():
    action = RemoteAction("action_anything", None)
    good = {"events": [{"event": "slot", "name": "language", "value": "vi"}], "responses": [{"text": "hi"}]}
    assert rasa_runtime.validate_action_result(action, good) is True
    bad = {"events": [{"name": "language", "value": "vi"}], "responses": []}
    with pytest.raises(ValidationError) as raised:
        rasa_runtime.validate_action_result(action, bad)
    with pytest.raises(ValidationError) as expected:
        validate(bad, RemoteAction.action_response_format_spec())
    assert raised.value.message.startswith(expected.value.message)
    assert "Failed to validate Action server response" in raised.value.message


def test_the_response_schema_itself_is_checked_once_per_process(monkeypatch):
    from jsonschema.validators import validator_for

    checked = []
    cls = validator_for(RemoteAction.action_response_format_spec())
    original = cls.check_schema.__func__
    monkeypatch.setattr(cls, "check_schema", classmethod(lambda c, s: checked.append(1) or original(c, s)))
    monkeypatch.setattr(rasa_runtime, "_validator", None)
    action = RemoteAction("action_anything", None)
    for _ in range(3):
        rasa_runtime.validate_action_result(action, {"events": [], "responses": []})
    assert checked == [1]


def test_loading_the_stores_puts_the_faster_check_in_rasas_place():
    import contract.rasa_stores  # noqa: F401  (what endpoints.yml makes Rasa import)

    assert RemoteAction._validate_action_result is rasa_runtime.validate_action_result
