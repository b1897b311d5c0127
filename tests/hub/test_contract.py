"""The contract both sides import (contract/): the handoff packet's fields and owners,
its versions, and its summary words."""

import pytest

from contract.handoff import (
    ASSISTANT,
    HUB,
    REASONS,
    SEVERITY_REASONS,
    HandoffPacket,
    assistant_away,
    owner,
    read_packet,
    summary_words,
)
from tests.hub.helpers import a_packet


def test_every_field_says_which_side_fills_it():
    owners = {name: owner(name) for name in HandoffPacket.__fields__}
    assert {name for name, side in owners.items() if side == HUB} == {"conversation_id", "channel"}
    assert set(owners.values()) == {ASSISTANT, HUB}
    assert "transcript" not in owners  # the hub's, beside the packet, never inside it


def test_a_packet_that_does_not_fit_the_contract_is_not_read():
    good = a_packet()
    assert read_packet(good) is not None
    for change in (
        {"version": 1},
        {"reason": "bored"},
        {"language": "fr"},
        {"severity": {"level": "dire"}},
        {"details_trust": {"email": "maybe"}},
        {"summary": {"en": "only English"}},
        {"transcript": []},
    ):
        assert read_packet({**good, **change}) is None, change
    assert read_packet("not a packet") is None and read_packet(None) is None


def test_the_hub_sets_its_own_fields_whatever_came():
    packet = read_packet({**a_packet(), "conversation_id": "someone-else", "channel": "fax"})
    attached = packet.attach("rest-abc", "rest")
    assert (attached.conversation_id, attached.channel) == ("rest-abc", "rest")


def test_every_reason_and_severity_code_has_words_in_both_languages():
    words = summary_words()
    assert set(REASONS) <= set(words.reasons)
    assert set(SEVERITY_REASONS) - {"base"} <= set(words.severity_reasons)


@pytest.mark.parametrize("language", ["en", "vi"])
def test_the_fallback_packet_is_summarised_in_both_languages(language):
    packet = assistant_away(
        "fb-1",
        "messenger",
        {"channel_id": "fb-1", "psid": "1"},
        language,
        "SR-ABCDEF",
        "timeout",
        "where is my parcel",
    )
    assert packet.summary.en != packet.summary.vi
    assert "where is my parcel" in packet.summary.en and "where is my parcel" in packet.summary.vi
    assert packet.customer.verified is False  # a PSID alone recalls nothing, as for the assistant
    assert read_packet(packet.payload()) == packet


def test_the_summary_words_are_refused_naming_the_line_when_a_code_has_none(tmp_path):
    from contract.handoff import WORDS_FILE
    from contract.words import WordFileError

    broken = tmp_path / "handoff.yml"
    broken.write_text(
        WORDS_FILE.read_text(encoding="utf-8").replace("    safety_risk: {", "    safety_risks: {"),
        encoding="utf-8",
    )
    with pytest.raises(
        WordFileError,
        match=r"handoff\.yml, line \d+ \(handoff_summary\.severity_reasons\): no words for \['safety_risk'\]",
    ):
        summary_words.__wrapped__(broken)
