"""contract/identity.py: the shop's signed identity and masking (pure functions)."""

import time

import pytest

from contract.identity import (
    MAX_VALIDITY,
    mask_email,
    mask_phone,
    normalise_phone,
    sign_identity,
    verify_identity,
)

SECRET = "shop-secret"


def test_a_valid_signature_names_the_customer():
    signed = sign_identity("C-42", int(time.time()) + 600, SECRET)
    assert verify_identity(signed, SECRET) == "C-42"


@pytest.mark.parametrize(
    "change",
    [
        lambda s: {**s, "expires": int(time.time()) + 900},  # expiry changed after signing
        lambda s: {**s, "customer_id": "C-43"},  # tampered id
        lambda s: {**s, "signature": s["signature"][:-1] + ("0" if s["signature"][-1] != "0" else "1")},
        lambda s: {**s, "signature": "é" * 64},  # non-ASCII: no crash
        lambda s: {**s, "expires": str(s["expires"])},  # wrong types
        lambda s: {**s, "expires": True},
        lambda s: {k: v for k, v in s.items() if k != "signature"},
        lambda s: "not a dict",
    ],
)
def test_anything_else_is_a_guest(change):
    signed = sign_identity("C-42", int(time.time()) + 600, SECRET)
    assert verify_identity(change(signed), SECRET) is None


def test_expired_or_too_long_lived_signatures_are_refused_even_when_genuine():
    now = time.time()
    assert verify_identity(sign_identity("C-42", int(now) - 1, SECRET), SECRET, now=now) is None
    far = int(now + MAX_VALIDITY + 60)
    assert verify_identity(sign_identity("C-42", far, SECRET), SECRET, now=now) is None


def test_another_secret_or_no_secret_verifies_nothing():
    signed = sign_identity("C-42", int(time.time()) + 600, "another")
    assert verify_identity(signed, SECRET) is None
    assert verify_identity(sign_identity("C-42", int(time.time()) + 600, ""), "") is None


def test_masks_show_the_owner_enough_and_nobody_else_anything():
    assert mask_email("lan.nguyen@example.com") == "l…@example.com"
    assert mask_phone("0912 345 678") == "…678"
    assert mask_email("not an email") == "…" and mask_phone("") == "…"


def test_phone_numbers_compare_in_any_common_format():
    assert normalise_phone("+84 912 345 678") == normalise_phone("0912-345-678") == "0912345678"
    assert normalise_phone("+14155550123") == "14155550123"
