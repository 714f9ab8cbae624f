"""Wallets encrypted at rest: both key providers (KMS under moto, local), the blind index, the database."""

from __future__ import annotations

import base64
import os

import boto3
import pytest
from moto import mock_aws
from sqlalchemy import text
from streamvault.config import configure, get_settings
from streamvault.wallets import (
    InvalidWalletCiphertext,
    decrypt_wallet,
    encrypt_wallet,
    find_creator_by_wallet,
    normalize_address,
    read_wallet,
    reset_wallet_keys,
    wallet_blind_index,
)

from tests.integration.factories import make_creator

CHECKSUMMED = "0x52908400098527886E0F7030069857D2E4169EE7"  # an EIP-55 test vector
ADDRESS = CHECKSUMMED.lower()
OTHER = "0x8617e340b3d01fa5f11f306f4090fd50e238070d"


@pytest.fixture(autouse=True)
def _fresh_keys():
    reset_wallet_keys()
    yield
    reset_wallet_keys()


@pytest.fixture
def kms_calls(engine, db_url, monkeypatch):
    """Wallet keys under a moto KMS key; the names of the KMS operations called from here on."""
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # the hook below stays in this test
    with mock_aws():
        kms = boto3.client("kms", region_name=get_settings().aws_region)
        key_id = kms.create_key(Description="wallets")["KeyMetadata"]["KeyId"]
        index_key = kms.encrypt(KeyId=key_id, Plaintext=os.urandom(32),
                                EncryptionContext={"purpose": "streamvault:wallet-index"})["CiphertextBlob"]
        configure(database_url=db_url, read_database_url=None, wallet_kms_key_id=key_id,
                  wallet_index_key_ciphertext=base64.b64encode(index_key).decode())
        calls: list[str] = []
        boto3.setup_default_session()
        boto3.DEFAULT_SESSION.events.register("before-call.kms", lambda model, **_: calls.append(model.name))
        yield calls


@pytest.fixture(params=["kms", "local"])
def provider(request):
    """Each test that takes it runs once under KMS (moto) and once with the local keys."""
    if request.param == "kms":
        request.getfixturevalue("kms_calls")
    else:
        request.getfixturevalue("engine")
    return request.param


def wrapped_key(ciphertext: bytes) -> bytes:
    return ciphertext[3:3 + int.from_bytes(ciphertext[1:3], "big")]


def set_wallet(conn, creator_id: int, address: str) -> None:
    wallet = encrypt_wallet(address)
    conn.execute(text("UPDATE creators SET wallet_ciphertext = :c, wallet_blind_index = :i WHERE id = :id"),
                 {"c": wallet.ciphertext, "i": wallet.blind_index, "id": creator_id})


def test_round_trip_returns_the_normalized_address(provider):
    assert decrypt_wallet(encrypt_wallet(CHECKSUMMED).ciphertext) == ADDRESS


def test_each_encryption_differs_while_the_blind_index_is_stable(provider):
    first, second = encrypt_wallet(ADDRESS), encrypt_wallet(CHECKSUMMED)
    assert first.ciphertext != second.ciphertext  # a random nonce per wallet
    assert first.blind_index == second.blind_index == wallet_blind_index(ADDRESS.upper().replace("0X", "0x"))
    assert len(first.blind_index) == 32
    assert wallet_blind_index(OTHER) != first.blind_index


def test_the_database_never_holds_the_address_in_clear(provider, engine):
    with engine.begin() as conn:
        creator_id = make_creator(conn)
        set_wallet(conn, creator_id, CHECKSUMMED)
        stored, index = conn.execute(
            text("SELECT wallet_ciphertext, wallet_blind_index FROM creators WHERE id = :id"), {"id": creator_id}
        ).one()
    raw = bytes.fromhex(ADDRESS[2:])
    for column in (bytes(stored), bytes(index)):
        for clear in (raw, ADDRESS[2:].encode(), CHECKSUMMED[2:].encode(), ADDRESS[2:].upper().encode()):
            assert clear not in column
    with engine.connect() as conn:
        assert read_wallet(conn, creator_id) == ADDRESS


@pytest.mark.parametrize("where", ["version", "wrapped key", "nonce", "ciphertext", "tag"])
def test_a_tampered_ciphertext_is_refused(provider, where):
    blob = bytearray(encrypt_wallet(ADDRESS).ciphertext)
    nonce_at = 3 + len(wrapped_key(blob))
    position = {"version": 0, "wrapped key": nonce_at - 1, "nonce": nonce_at, "ciphertext": nonce_at + 12,
                "tag": len(blob) - 1}[where]
    blob[position] ^= 0x01
    with pytest.raises(InvalidWalletCiphertext):
        decrypt_wallet(bytes(blob))


@pytest.mark.parametrize("blob", [b"", b"\x01", b"\x01\x00\x05abc", b"\x02" + bytes(60)])
def test_a_malformed_ciphertext_is_refused(provider, blob):
    with pytest.raises(InvalidWalletCiphertext):
        decrypt_wallet(blob)


def test_kms_makes_one_data_key_per_container_and_unwraps_each_once(kms_calls):
    first, second = encrypt_wallet(ADDRESS), encrypt_wallet(OTHER)
    assert kms_calls == ["GenerateDataKey", "Decrypt"]  # the data key, then the index key
    assert wrapped_key(first.ciphertext) == wrapped_key(second.ciphertext)
    for _ in range(3):
        decrypt_wallet(first.ciphertext)
        decrypt_wallet(second.ciphertext)
    assert kms_calls == ["GenerateDataKey", "Decrypt", "Decrypt"]  # one unwrap, then the cache

    reset_wallet_keys()  # a new container: a new data key, and old wallets still decrypt
    third = encrypt_wallet(ADDRESS)
    assert wrapped_key(third.ciphertext) != wrapped_key(first.ciphertext)
    assert decrypt_wallet(first.ciphertext) == ADDRESS
    assert third.blind_index == first.blind_index


def test_a_kms_key_needs_its_index_key(engine, db_url):
    configure(database_url=db_url, wallet_kms_key_id="alias/wallets")
    with pytest.raises(RuntimeError, match="WALLET_INDEX_KEY_CIPHERTEXT"):
        encrypt_wallet(ADDRESS)


def test_local_keys_work_without_kms_and_depend_on_the_master_key(engine, db_url):
    # No mock_aws here: any call to AWS would fail for want of credentials or network.
    default_key = encrypt_wallet(ADDRESS)
    assert decrypt_wallet(default_key.ciphertext) == ADDRESS

    configure(database_url=db_url, local_master_key="ab" * 32)
    reset_wallet_keys()
    mine = encrypt_wallet(ADDRESS)
    assert decrypt_wallet(mine.ciphertext) == ADDRESS
    assert mine.blind_index != default_key.blind_index
    with pytest.raises(InvalidWalletCiphertext):
        decrypt_wallet(default_key.ciphertext)


def test_a_malformed_master_key_is_refused_without_echoing_it(engine, db_url):
    configure(database_url=db_url, local_master_key="secret-but-not-hex")
    with pytest.raises(ValueError, match="64 hex characters") as refused:
        encrypt_wallet(ADDRESS)
    assert "secret-but-not-hex" not in str(refused.value)


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_the_local_keys_are_refused_outside_stage_local(engine, db_url, stage):
    configure(database_url=db_url, stage=stage, local_master_key="ab" * 32)
    with pytest.raises(RuntimeError, match="needs KMS"):
        encrypt_wallet(ADDRESS)
    with pytest.raises(RuntimeError, match="needs KMS"):
        wallet_blind_index(ADDRESS)


def test_find_creator_by_wallet_in_any_letter_case(provider, engine):
    with engine.begin() as conn:
        creator_id = make_creator(conn)
        other_id = make_creator(conn)
        set_wallet(conn, creator_id, ADDRESS)
        set_wallet(conn, other_id, OTHER)
    with engine.connect() as conn:
        for spelling in (ADDRESS, CHECKSUMMED, "0x" + ADDRESS[2:].upper()):
            assert find_creator_by_wallet(conn, spelling) == creator_id
        assert find_creator_by_wallet(conn, OTHER) == other_id
        assert find_creator_by_wallet(conn, "0x" + "11" * 20) is None
        with pytest.raises(ValueError):
            find_creator_by_wallet(conn, "not-an-address")


def test_read_wallet_is_none_without_a_wallet_or_a_live_creator(engine):
    with engine.begin() as conn:
        no_wallet = make_creator(conn)
        deleted = make_creator(conn)
        set_wallet(conn, deleted, ADDRESS)
        conn.execute(text("UPDATE creators SET deleted_at = now() WHERE id = :id"), {"id": deleted})
    with engine.connect() as conn:
        assert read_wallet(conn, no_wallet) is None
        assert read_wallet(conn, 999_999) is None
        assert read_wallet(conn, deleted) is None
        assert find_creator_by_wallet(conn, ADDRESS) is None


@pytest.mark.parametrize("address", [CHECKSUMMED, ADDRESS, "0x" + ADDRESS[2:].upper()])
def test_normalize_accepts_any_letter_case(address):
    assert normalize_address(address) == ADDRESS


@pytest.mark.parametrize("address", [
    ADDRESS[2:],  # no 0x
    ADDRESS[:-1],  # 19.5 bytes
    ADDRESS + "0",  # 20.5 bytes
    ADDRESS[:-1] + "g",  # not hex
    " " + ADDRESS,
    ADDRESS + "\n",
    "0X" + ADDRESS[2:],
    "",
])
def test_normalize_refuses_what_is_not_an_address(address):
    with pytest.raises(ValueError, match="40 hexadecimal digits"):
        normalize_address(address)
