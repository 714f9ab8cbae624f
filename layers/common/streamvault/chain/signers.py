"""Transaction signers: a local key (development, tests) and an AWS KMS key (production).

The KMS key is an ``ECC_SECG_P256K1`` SIGN_VERIFY key: the private key never leaves KMS; we send
it the 32-byte transaction hash and get a DER signature back. No signer ever puts its key in a
``repr``, a log line or an exception message.
"""

from __future__ import annotations

from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_der_public_key
from eth_account import Account
from eth_account._utils.legacy_transactions import encode_transaction  # the typed-transaction RLP encoder
from eth_account.typed_transactions import TypedTransaction
from eth_keys.datatypes import PublicKey, Signature
from eth_utils import to_checksum_address

# secp256k1's group order: Ethereum only accepts the low-s half of signatures (EIP-2).
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


class Signer(Protocol):
    @property
    def address(self) -> str: ...

    def sign(self, tx: dict[str, Any]) -> bytes:
        """The raw signed transaction (an EIP-1559 dict with chainId, nonce, fees, gas, to, data)."""


class LocalSigner:
    def __init__(self, private_key: str) -> None:
        try:
            self._account = Account.from_key(private_key)
        except Exception:
            # "from None": the parser's message or traceback locals could carry the key itself.
            raise ValueError("the local signer key is not a valid secp256k1 private key") from None

    @property
    def address(self) -> str:
        return self._account.address

    def sign(self, tx: dict[str, Any]) -> bytes:
        return bytes(self._account.sign_transaction(tx).raw_transaction)

    def __repr__(self) -> str:
        return f"LocalSigner({self.address})"


class KmsSigner:
    """Signs with a KMS secp256k1 key; the address is derived from its public key (once)."""

    def __init__(self, kms: Any, key_id: str) -> None:
        self._kms = kms
        self._key_id = key_id
        der = kms.get_public_key(KeyId=key_id)["PublicKey"]
        self._public_key = PublicKey(_uncompressed_point(der)[1:])
        self._address = to_checksum_address(self._public_key.to_canonical_address())

    @property
    def address(self) -> str:
        return self._address

    def sign(self, tx: dict[str, Any]) -> bytes:
        unsigned = TypedTransaction.from_dict(tx)
        digest = unsigned.hash()
        der = self._kms.sign(KeyId=self._key_id, Message=digest, MessageType="DIGEST",
                             SigningAlgorithm="ECDSA_SHA_256")["Signature"]
        r, s = decode_dss_signature(der)
        if s > SECP256K1_N // 2:
            s = SECP256K1_N - s  # KMS may return the high-s twin, which Ethereum nodes refuse
        v = self._recovery_id(digest, r, s)
        return bytes(encode_transaction(unsigned, vrs=(v, r, s)))

    def _recovery_id(self, digest: bytes, r: int, s: int) -> int:
        """KMS gives (r, s) only: the recovery id is whichever of 0/1 recovers our public key."""
        for v in (0, 1):
            if Signature(vrs=(v, r, s)).recover_public_key_from_msg_hash(digest) == self._public_key:
                return v
        raise RuntimeError("the KMS signature does not recover to the key's public key")

    def __repr__(self) -> str:
        return f"KmsSigner({self.address})"


def _uncompressed_point(der_public_key: bytes) -> bytes:
    key = load_der_public_key(der_public_key)
    if not isinstance(key, EllipticCurvePublicKey) or key.curve.name != "secp256k1":
        raise ValueError("the KMS key must be ECC_SECG_P256K1")
    return key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
