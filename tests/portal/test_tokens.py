"""DESIGN "Secrets": access codes and registration-link tokens."""

from __future__ import annotations

import base64
import hashlib

import pytest

from portico.portal import registration, tokens
from portico.portal import services as portal
from portico.portal.models import Invitation
from tests.factories import invite

LOOK_ALIKES = set("0O1IL")


def test_access_code_alphabet_has_no_look_alikes():
    assert not LOOK_ALIKES & set(tokens.ACCESS_CODE_ALPHABET)
    assert set(tokens.ACCESS_CODE_ALPHABET) == set("ABCDEFGHJKMNPQRSTUVWXYZ23456789")


def test_access_code_is_eight_characters_from_the_alphabet():
    codes = {tokens.new_access_code() for _ in range(200)}

    assert all(len(code) == 8 for code in codes)
    assert set("".join(codes)) <= set(tokens.ACCESS_CODE_ALPHABET)
    # 200 draws of ~40 bits: a repeat would mean the codes are not random.
    assert len(codes) == 200


def test_access_code_comes_from_the_secrets_module(monkeypatch):
    picks = []

    def choice(alphabet):
        picks.append(alphabet)
        return alphabet[-1]

    monkeypatch.setattr(tokens.secrets, "choice", choice)

    assert tokens.new_access_code() == "99999999"
    assert picks == [tokens.ACCESS_CODE_ALPHABET] * 8


def test_invitation_gets_a_code_of_eight_from_the_alphabet(admin, patient):
    invitation = invite(admin, patient)

    assert len(invitation.access_code) == 8
    assert set(invitation.access_code) <= set(tokens.ACCESS_CODE_ALPHABET)
    assert invitation.access_code_display == (
        f"{invitation.access_code[:4]}-{invitation.access_code[4:]}"
    )


@pytest.mark.parametrize(
    ("typed", "matches"),
    [
        ("ABCD2345", True),
        ("abcd2345", True),
        ("AbCd-2345", True),
        (" abcd 2345 ", True),
        ("ab-cd 23-45", True),
        ("ABCD2346", False),
        ("ABCD234", False),
        ("ABCD23455", False),
        ("", False),
    ],
)
def test_access_code_is_matched_as_people_type_it(typed, matches):
    assert tokens.access_code_matches("ABCD2345", typed) is matches


def test_link_nonce_has_at_least_128_random_bits():
    nonces = {tokens.new_link_nonce() for _ in range(50)}

    assert len(nonces) == 50
    for nonce in nonces:
        assert len(bytes.fromhex(nonce)) * 8 >= 128


def test_link_token_carries_256_bits_and_is_url_safe():
    token = tokens.link_token(tokens.new_link_nonce())

    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert len(raw) * 8 == 256
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_link_token_is_derived_from_the_nonce_with_the_secret_key(settings):
    nonce = tokens.new_link_nonce()
    token = tokens.link_token(nonce)

    assert tokens.link_token(nonce) == token
    assert tokens.link_token(tokens.new_link_nonce()) != token
    settings.SECRET_KEY = "another-deployment-secret-key-for-this-test-only"
    assert tokens.link_token(nonce) != token


def test_only_the_hash_of_the_link_token_is_stored(admin, patient):
    invitation = invite(admin, patient)
    token = tokens.link_token(invitation.link_nonce)
    row = Invitation.objects.filter(pk=invitation.pk).values().get()

    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    for field, value in row.items():
        assert token not in str(value), field


def test_stored_values_alone_do_not_open_the_link(admin, patient):
    invitation = invite(admin, patient)

    for stored in (invitation.token_hash, invitation.link_nonce, str(invitation.public_id)):
        with pytest.raises(registration.RegistrationError) as caught:
            registration.invitation_for_link(stored)
        assert caught.value.code == "expired_link"
    assert registration.invitation_for_link(tokens.link_token(invitation.link_nonce)) == invitation


def test_every_invitation_gets_its_own_code_and_link(admin, patient):
    first = invite(admin, patient)
    second = portal.invitation_resend(admin, patient=patient)

    assert first.link_nonce != second.link_nonce
    assert first.token_hash != second.token_hash
