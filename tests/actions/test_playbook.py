import os
from pathlib import Path
import subprocess
import sys

import pytest

from actions.playbook import COMPLAINTS, PlaybookError, load_playbook, parse_playbook
from contract.intents import GENERAL_COMPLAINT
from scripts.stack import free_port

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "data" / "shop" / "playbook.yml"  # the shop owner's: only validated here
PLAYBOOK_FILE = ROOT / "tests" / "data" / "playbook.yml"  # the tests' own: exact values


def test_the_shipped_playbook_is_valid():
    # Validity includes an entry for every complaint type (refused otherwise: see
    # test_a_missing_complaint_type_is_refused below), so nothing more to compare here.
    assert load_playbook(SHIPPED).remedies


def test_the_domain_names_exactly_the_contracts_complaint_types(domain):
    # A general complaint names no type: it has no playbook entry.
    complaint_intents = [
        i for i in domain["intents"] if i.startswith("complain_") and i != GENERAL_COMPLAINT
    ] + ["cancel_order"]
    assert sorted(complaint_intents) == sorted(COMPLAINTS)


def _broken(old: str, new: str) -> str:
    text = PLAYBOOK_FILE.read_text(encoding="utf-8")
    assert old in text
    return text.replace(old, new, 1)


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_an_unknown_remedy_is_refused_naming_its_line():
    text = _broken(
        "- {remedy: replacement, order_status: [delivered]}",
        "- {remedy: replacment, order_status: [delivered]}",
    )
    with pytest.raises(PlaybookError) as error:
        parse_playbook(text, "playbook.yml")
    message = str(error.value)
    assert f"line {_line_of(text, 'replacment')}" in message
    assert "unknown remedy 'replacment'" in message
    assert "complaints.complain_damaged.remedies.[0].remedy" in message


def test_a_missing_vietnamese_text_is_refused():
    text = _broken('label: {en: "Full refund", vi: "Hoàn tiền toàn bộ"}', 'label: {en: "Full refund"}')
    with pytest.raises(PlaybookError, match=r"line \d+ \(playbook.remedies.refund.label.vi\): is missing"):
        parse_playbook(text, "playbook.yml")


def test_a_bad_condition_value_is_refused():
    text = _broken("order_status: [lost, delivered]}", "order_status: [lost, misplaced]}")
    with pytest.raises(PlaybookError, match="unknown value 'misplaced'"):
        parse_playbook(text)


def test_a_complaint_without_its_apology_or_label_is_refused():
    text = _broken(
        '      sorry_that: {en: "your order arrived damaged"',
        '      sorry_it: {en: "your order arrived damaged"',
    )
    with pytest.raises(PlaybookError, match=r"complain_damaged\.sorry_it\): unknown key"):
        parse_playbook(text)
    text = _broken('      label: {en: "Arrived damaged", vi: "Hàng bị hư hỏng"}\n', "")
    with pytest.raises(
        PlaybookError, match=r"complain_damaged\.label\): a complaint needs its 'label' texts"
    ):
        parse_playbook(text)


def test_understanding_thresholds_are_shares_and_item_words_lists():
    with pytest.raises(PlaybookError, match="close_ratio\\): expected a number above 0 and at most 1"):
        parse_playbook(_broken("    close_ratio: 0.3", "    close_ratio: 3"))
    with pytest.raises(PlaybookError, match=r"item_words\): unknown language 'fr'"):
        parse_playbook(_broken("      vi: [ấm trà,", "      fr: [ấm trà,"))


def test_a_missing_complaint_type_is_refused():
    text = _broken("    complain_wait:", "    complain_waiting:")
    with pytest.raises(PlaybookError, match="missing entry for complain_wait"):
        parse_playbook(text)


def test_remedies_follow_conditions_and_approval_limits():
    book = load_playbook(PLAYBOOK_FILE)
    lost = [r.id for r in book.eligible("complain_delivery", "lost", 760000, "standard", False)]
    assert lost[:2] == ["reship_express", "refund"]
    in_transit = [r.id for r in book.eligible("complain_delivery", "in_transit", 1250000, "gold", False)]
    assert "reship_express" not in in_transit  # only for repeat contacts or lost parcels
    repeat = [r.id for r in book.eligible("complain_delivery", "in_transit", 1250000, "gold", True)]
    assert repeat[0] == "reship_express"
    refund = book.remedies["refund"]
    assert refund.within_limit(480000) and not refund.within_limit(1250000)
    assert not refund.within_limit(None)  # unknown value: a colleague decides
    assert book.remedies["voucher_15"].within_limit(None)


def test_a_detail_phrase_without_its_place_for_the_detail_is_refused():
    with pytest.raises(PlaybookError, match=r"phrases\.email\): each text needs a \{\}"):
        parse_playbook(_broken('    email: {en: "your email {}"', '    email: {en: "your email"'))


def test_a_remedy_is_found_by_its_id_first_then_by_its_family():
    book = load_playbook(PLAYBOOK_FILE)
    assert [r.id for r in book.find("exchange")] == ["exchange"]  # a button's payload
    # A word from NLU: the remedy of that name first, then the rest of its family.
    assert [r.id for r in book.find("replacement")] == ["replacement", "exchange"]
    assert [r.id for r in book.find("voucher")] == ["wallet_refund_voucher", "voucher_15"]
    assert book.find("teleport") == []


def test_an_unknown_remedy_family_is_refused_naming_its_line():
    text = _broken("      families: [reship]", "      families: [resend]")
    with pytest.raises(PlaybookError) as error:
        parse_playbook(text, "playbook.yml")
    message = str(error.value)
    assert f"line {_line_of(text, 'families: [resend]')}" in message
    assert "unknown value 'resend'" in message and "remedies.reship_express.families" in message


def test_the_action_server_refuses_to_start_with_a_bad_playbook_naming_its_line(tmp_path):
    """As `rasa run actions --actions actions` starts it (scripts/stack.py): rasa_sdk makes
    every action, and the actions that follow the playbook load it then."""
    bad = tmp_path / "playbook.yml"
    bad.write_text(
        _broken(
            "- {remedy: replacement, order_status: [delivered]}",
            "- {remedy: replacment, order_status: [delivered]}",
        ),
        encoding="utf-8",
    )
    command = [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(free_port())]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PLAYBOOK_PATH": str(bad), "SANIC_HOST": "127.0.0.1"}
    try:
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=90)
    except subprocess.TimeoutExpired:
        pytest.fail("the action server started with a bad playbook")
    assert done.returncode != 0
    line = _line_of(bad.read_text(encoding="utf-8"), "replacment")
    assert f"{bad}, line {line} (playbook.complaints.complain_damaged.remedies.[0].remedy)" in done.stderr


def test_the_playbook_loads_on_first_use_not_when_the_actions_are_imported():
    """Importing every action module reads no playbook (PLAYBOOK_PATH names no file then):
    the one used is the one PLAYBOOK_PATH names at the first use."""
    code = (
        "import importlib, os, pkgutil, sys, actions\n"
        "for found in pkgutil.iter_modules(actions.__path__):\n"
        "    importlib.import_module('actions.' + found.name)\n"
        "os.environ['PLAYBOOK_PATH'] = sys.argv[1]\n"
        "from actions.playbook import shop_playbook\n"
        "print(sorted(shop_playbook().remedies))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PLAYBOOK_PATH": str(ROOT / "no-such-playbook.yml")}
    done = subprocess.run(
        [sys.executable, "-c", code, str(PLAYBOOK_FILE)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(sorted(load_playbook(PLAYBOOK_FILE).remedies))
