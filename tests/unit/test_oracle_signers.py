"""Signers: the KMS signer against moto's KMS (ECC_SECG_P256K1), signatures verified by
recovering the sender; no signer ever shows its key."""

from __future__ import annotations

import boto3
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature
from cryptography.hazmat.primitives.serialization import load_der_public_key
from eth_account import Account
from eth_account.typed_transactions import TypedTransaction
from hexbytes import HexBytes
from moto import mock_aws
from moto.kms import utils as moto_kms
from streamvault.chain.signers import SECP256K1_N, KmsSigner, LocalSigner
from streamvault.local.anvil import ANVIL_DEV_KEY

TX = {"type": 2, "chainId": 314159, "nonce": 0, "to": "0x" + "22" * 20, "value": 0, "data": b"\x01\x02",
      "gas": 50_000, "maxFeePerGas": 2 * 10**9, "maxPriorityFeePerGas": 10**8}


@pytest.fixture
def kms(monkeypatch):
    # moto signs SHA-256(message) even for MessageType=DIGEST (its docs: DIGEST "not yet implemented");
    # real KMS signs the 32-byte digest as given. Our signer only sends digests: sign them prehashed.
    def sign_digest(self, message: bytes, signing_algorithm: str) -> bytes:
        return self.private_key.sign(message, ec.ECDSA(Prehashed(hashes.SHA256())))

    monkeypatch.setattr(moto_kms.ECDSAPrivateKey, "sign", sign_digest)
    with mock_aws():
        client = boto3.client("kms", region_name="us-east-1")
        key_id = client.create_key(KeySpec="ECC_SECG_P256K1", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
        yield client, key_id


def test_kms_signer_signs_transactions_that_recover_to_its_address(kms):
    client, key_id = kms
    signer = KmsSigner(client, key_id)
    public_key = load_der_public_key(client.get_public_key(KeyId=key_id)["PublicKey"])
    for nonce in range(12):  # both recovery ids and both s halves show up over a dozen signatures
        raw = signer.sign({**TX, "nonce": nonce})
        assert Account.recover_transaction(raw) == signer.address
        decoded = TypedTransaction.from_bytes(HexBytes(raw))
        v, r, s = decoded.vrs()
        assert v in (0, 1) and s <= SECP256K1_N // 2  # low-s, as nodes require
        digest = TypedTransaction.from_dict({**TX, "nonce": nonce}).hash()
        public_key.verify(encode_dss_signature(r, s), digest, ec.ECDSA(Prehashed(hashes.SHA256())))


def test_kms_signer_refuses_a_non_secp256k1_key(kms):
    client, _ = kms
    other = client.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    with pytest.raises(ValueError, match="ECC_SECG_P256K1"):
        KmsSigner(client, other)


def test_signers_never_show_their_key(kms):
    local = LocalSigner(ANVIL_DEV_KEY)
    kms_signer = KmsSigner(*kms)
    for signer in (local, kms_signer):
        assert ANVIL_DEV_KEY[2:] not in repr(signer) and signer.address in repr(signer)
    assert Account.recover_transaction(local.sign(TX)) == local.address


def test_a_malformed_local_key_is_refused_without_echoing_it():
    secret = "0x" + "ab" * 31  # one byte short
    with pytest.raises(ValueError) as err:
        LocalSigner(secret)
    assert secret[2:] not in str(err.value) and err.value.__cause__ is None
