"""The hub's pure parts: opening hours, signing, passwords, message shapes, settings."""

from datetime import datetime

import pytest

from bot.channels.widget import to_widget
from bot.console.passwords import check_password, hash_password
from bot.core.hours import parse_hours, reply_by
from bot.core.rasa_client import for_rasa
from bot.core.texts import Texts
from bot.settings import Settings, parse_agents
from bot.web.signing import sign, unsign

HOURS = parse_hours("08:00-22:00")
TEXTS = Texts()


def test_reply_by_within_hours_is_later_today():
    assert reply_by(datetime(2026, 11, 22, 14, 0), HOURS, 34, "en", TEXTS) == "14:34 today"
    assert reply_by(datetime(2026, 11, 22, 14, 0), HOURS, 34, "vi", TEXTS) == "14:34 hôm nay"


def test_reply_by_outside_hours_is_the_next_opening():
    assert reply_by(datetime(2026, 11, 22, 6, 0), HOURS, 30, "en", TEXTS) == "08:00 today"
    assert reply_by(datetime(2026, 11, 22, 23, 0), HOURS, 30, "en", TEXTS) == "08:00 tomorrow"
    assert reply_by(datetime(2026, 11, 22, 23, 0), HOURS, 30, "vi", TEXTS) == "08:00 sáng mai"


def test_signed_ids_reject_tampering_and_other_secrets():
    token = sign("w123", "s1")
    assert unsign(token, "s1") == "w123"
    assert unsign(token, "s2") is None
    assert unsign(token[:-1] + ("A" if token[-1] != "A" else "B"), "s1") is None
    assert unsign("w123", "s1") is None and unsign(None, "s1") is None


def test_passwords_are_stored_hashed_and_checked():
    hashed = hash_password("correct horse")
    assert "correct horse" not in hashed and hashed.startswith("scrypt$")
    assert check_password("correct horse", hashed) and not check_password("wrong", hashed)
    assert not check_password("x", "garbage")


def test_agent_configuration_must_hold_hashes_not_passwords():
    assert list(parse_agents("lan:" + hash_password("pw"))) == ["lan"]
    with pytest.raises(ValueError, match="must be name:scrypt"):
        parse_agents("lan:plaintext")


def test_settings_come_from_the_environment():
    settings = Settings.from_env(
        {"HUB_PORT": "9000", "RASA_URL": "http://rasa:5005/", "MAX_MESSAGE_CHARS": "500", "HUB_DEMO": "1"}
    )
    assert settings.port == 9000 and settings.rasa_url == "http://rasa:5005"
    assert settings.max_message_chars == 500 and "agent" in settings.agents
    assert settings.rasa_urls == ("http://rasa:5005",)
    several = Settings.from_env({"RASA_URL": "http://rasa-a:5005/, http://rasa-b:5005"})
    assert several.rasa_urls == ("http://rasa-a:5005", "http://rasa-b:5005")


def test_a_bad_setting_stops_the_hub_naming_its_variable():
    with pytest.raises(ValueError, match="HUB_PORT: value is not a valid integer"):
        Settings.from_env({"HUB_PORT": "eighty"})
    with pytest.raises(ValueError, match="RASA_TIMEOUT"):
        Settings.from_env({"RASA_TIMEOUT": "soon"})
    with pytest.raises(ValueError, match="MAX_MESSAGE_CHARS: must be a positive number"):
        Settings.from_env({"MAX_MESSAGE_CHARS": "0"})


def test_buttons_become_quick_replies_for_the_widget():
    shaped = to_widget({"text": "Pick one", "buttons": [{"title": "Refund", "payload": "/x"}]})
    assert shaped == {
        "text": "Pick one",
        "quick_replies": [{"content_type": "text", "title": "Refund", "payload": "/x"}],
    }


def test_every_hub_message_exists_in_both_languages():
    texts = Texts()
    values = dict(
        position=1,
        minutes=4,
        agent="A",
        length=1,
        limit=2,
        reply_by="08:00",
        time="08:00",
        email="l…@example.com",
        phone="…678",
        day="d",
        start="12:00",
        end="17:00",
        case_ref="SR-1",
        replies="r",
        link="http://shop/",
        channel="Zalo",
        order_id="1048213",
        done="d",
        offer="o",
    )
    for key in texts.messages:
        if key not in ("followup_buttons", "callback_windows"):
            assert texts.text(key, "vi", **values) != texts.text(key, "en", **values)


def test_identity_settings_come_from_the_environment():
    default = Settings.from_env({})
    assert not default.demo and default.demo_customer == "C-1001"
    assert default.shop_identity_secret == "" and default.rest_token == ""
    settings = Settings.from_env(
        {
            "HUB_DEMO": "1",
            "DEMO_CUSTOMER": "C-1002",
            "ORDERS_DATA": "/x.yml",
            "SHOP_IDENTITY_SECRET": "s",
            "HUB_REST_TOKEN": "t",
        }
    )
    assert settings.demo and settings.demo_customer == "C-1002" and settings.orders_data == "/x.yml"
    assert settings.shop_identity_secret == "s" and settings.rest_token == "t"
    assert not Settings.from_env({"HUB_DEMO": "0"}).demo


def test_only_the_bots_own_button_intents_reach_rasa_as_intents():
    assert for_rasa('/rate{"rating": "5"}') == '/rate{"rating": "5"}'
    assert for_rasa("/request_human") == "/request_human"
    assert for_rasa("/agent_handback") == "agent_handback"
    assert for_rasa("/ / restart") == "restart"
    assert for_rasa("/greet@0.1/agent_handback") == "/greet@0.1/agent_handback"
