"""Creators' wallet addresses, encrypted at rest, with a keyed blind index for look-ups.

Envelope encryption: each wallet is sealed with AES-256-GCM under a data key, and the data key
travels inside the blob wrapped by a key-encryption key. In AWS the wrapping is KMS
(``GenerateDataKey`` once per container, ``Decrypt`` once per distinct data key); locally
(stage ``local`` only) it is AES-GCM under a key derived from ``STREAMVAULT_LOCAL_MASTER_KEY``
or a fixed development key, so ``make run`` needs no KMS.

Blob layout (``creators.wallet_ciphertext``)::

    version (1 byte) | wrapped data key length (2 bytes, big endian) | wrapped data key
    | nonce (12 bytes) | ciphertext + GCM tag

The blind index (``creators.wallet_blind_index``) is HMAC-SHA256 of the normalized address under
a separate index key: equality look-ups work, and unlike a plain hash it cannot be matched
against a list of known addresses by anyone without the index key.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Connection, text

from streamvault.config import KEY_BYTES, Settings, get_settings, hex_key

_VERSION = 1
_AAD = b"streamvault:wallet:v1"  # binds the ciphertext to its purpose: no other blob decrypts as a wallet
_NONCE_BYTES = 12
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
# KMS encryption contexts: IAM policies can condition on them, and a blob made for one purpose
# does not decrypt for the other.
_DATA_KEY_CONTEXT = {"purpose": "streamvault:wallet"}
_INDEX_KEY_CONTEXT = {"purpose": "streamvault:wallet-index"}
# NOT A SECRET. Development only: used by stage "local" when STREAMVAULT_LOCAL_MASTER_KEY is unset,
# so the local stack runs without configuration. Any other stage refuses the local provider.
_DEVELOPMENT_MASTER_KEY = b"streamvault-development-key-0001"
_DECRYPTED_DATA_KEYS_CACHED = 1024


class InvalidWalletCiphertext(ValueError):
    """The blob is malformed, was tampered with, or was sealed under another key."""


@dataclass(frozen=True)
class EncryptedWallet:
    ciphertext: bytes
    blind_index: bytes


class _Keys(Protocol):
    def data_key(self) -> tuple[bytes, bytes]:
        """(plaintext data key, wrapped data key) to seal new wallets with."""

    def unwrap(self, wrapped: bytes) -> bytes:
        """The plaintext of a wrapped data key; InvalidWalletCiphertext when it is not ours."""

    def index_key(self) -> bytes: ...


class _KmsKeys:
    """AWS: data keys from KMS; the index key is a KMS-encrypted blob from the settings."""

    def __init__(self, settings: Settings) -> None:
        import boto3  # only the AWS provider needs it

        if not settings.wallet_index_key_ciphertext:
            raise RuntimeError("STREAMVAULT_WALLET_INDEX_KEY_CIPHERTEXT must be set with STREAMVAULT_WALLET_KMS_KEY_ID")
        self._kms = boto3.client("kms", region_name=settings.aws_region)
        self._key_id = settings.wallet_kms_key_id
        self._index_key_blob = base64.b64decode(settings.wallet_index_key_ciphertext, validate=True)
        self._data_key: tuple[bytes, bytes] | None = None
        self._index_key: bytes | None = None
        # Wallets written by many containers carry many data keys: a bounded cache, one KMS call each.
        self.unwrap = functools.lru_cache(maxsize=_DECRYPTED_DATA_KEYS_CACHED)(self._unwrap)

    def data_key(self) -> tuple[bytes, bytes]:
        # One data key per container (random nonces keep GCM safe far beyond a container's wallet count).
        # Lambda serves one request at a time; in a threaded process a race costs one extra data key.
        if self._data_key is None:
            out = self._kms.generate_data_key(KeyId=self._key_id, KeySpec="AES_256",
                                              EncryptionContext=_DATA_KEY_CONTEXT)
            self._data_key = (out["Plaintext"], out["CiphertextBlob"])
        return self._data_key

    def _unwrap(self, wrapped: bytes) -> bytes:
        try:
            return self._decrypt(wrapped, _DATA_KEY_CONTEXT)
        except (self._kms.exceptions.InvalidCiphertextException, self._kms.exceptions.IncorrectKeyException):
            raise InvalidWalletCiphertext("the wallet's data key does not decrypt under the wallet KMS key") from None

    def index_key(self) -> bytes:
        if self._index_key is None:
            key = self._decrypt(self._index_key_blob, _INDEX_KEY_CONTEXT)
            if len(key) != KEY_BYTES:
                raise RuntimeError("the wallet index key must decrypt to 32 bytes")
            self._index_key = key
        return self._index_key

    def _decrypt(self, blob: bytes, context: dict[str, str]) -> bytes:
        # KeyId pins the key: a blob encrypted under any other KMS key is refused.
        return self._kms.decrypt(CiphertextBlob=blob, KeyId=self._key_id, EncryptionContext=context)["Plaintext"]


class _LocalKeys:
    """Stage "local": both keys derived from one master key; data keys wrapped with AES-GCM."""

    _WRAP_AAD = b"streamvault:wallet-data-key:v1"

    def __init__(self, settings: Settings) -> None:
        if settings.stage != "local":
            raise RuntimeError(
                f"wallet encryption in stage {settings.stage!r} needs KMS: set STREAMVAULT_WALLET_KMS_KEY_ID and "
                "STREAMVAULT_WALLET_INDEX_KEY_CIPHERTEXT (the local master key is for stage 'local' only)"
            )
        master = (hex_key(settings.local_master_key, "STREAMVAULT_LOCAL_MASTER_KEY") if settings.local_master_key
                  else _DEVELOPMENT_MASTER_KEY)
        self._wrapping = AESGCM(_derive(master, b"streamvault:wallet:wrapping-key"))
        self._index_key = _derive(master, b"streamvault:wallet:index-key")
        self._data_key: tuple[bytes, bytes] | None = None

    def data_key(self) -> tuple[bytes, bytes]:
        if self._data_key is None:
            plaintext = AESGCM.generate_key(bit_length=256)
            nonce = os.urandom(_NONCE_BYTES)
            self._data_key = (plaintext, nonce + self._wrapping.encrypt(nonce, plaintext, self._WRAP_AAD))
        return self._data_key

    def unwrap(self, wrapped: bytes) -> bytes:
        try:
            return self._wrapping.decrypt(wrapped[:_NONCE_BYTES], wrapped[_NONCE_BYTES:], self._WRAP_AAD)
        except (InvalidTag, ValueError):
            raise InvalidWalletCiphertext("the wallet's data key does not decrypt under the local master key") from None

    def index_key(self) -> bytes:
        return self._index_key


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=purpose).derive(master)


_keys: _Keys | None = None


def _current_keys() -> _Keys:
    """The provider, built on first use: KMS when a wallet KMS key is configured, else local."""
    global _keys
    if _keys is None:
        settings = get_settings()
        _keys = _KmsKeys(settings) if settings.wallet_kms_key_id else _LocalKeys(settings)
    return _keys


def reset_wallet_keys() -> None:
    """Forget the provider and every cached key (tests, settings changes)."""
    global _keys
    _keys = None


def normalize_address(address: str) -> str:
    """``0x`` + 40 hex digits in any case (EIP-55 checksum case included) → lowercase."""
    if not _ADDRESS.fullmatch(address):
        raise ValueError("a wallet address is 0x followed by 40 hexadecimal digits")
    return address.lower()


def wallet_blind_index(address: str) -> bytes:
    return hmac.new(_current_keys().index_key(), normalize_address(address).encode(), hashlib.sha256).digest()


def encrypt_wallet(address: str) -> EncryptedWallet:
    normalized = normalize_address(address)
    keys = _current_keys()
    plaintext_key, wrapped_key = keys.data_key()
    nonce = os.urandom(_NONCE_BYTES)  # random per wallet: GCM must never reuse a nonce under one key
    sealed = AESGCM(plaintext_key).encrypt(nonce, bytes.fromhex(normalized[2:]), _AAD)
    header = bytes([_VERSION]) + len(wrapped_key).to_bytes(2, "big") + wrapped_key
    return EncryptedWallet(ciphertext=header + nonce + sealed, blind_index=wallet_blind_index(normalized))


def decrypt_wallet(ciphertext: bytes) -> str:
    """The normalized address; InvalidWalletCiphertext when the blob is not a valid sealed wallet."""
    wrapped_key, nonce, sealed = _split(bytes(ciphertext))  # bytes(): psycopg may hand bytea back as memoryview
    data_key = _current_keys().unwrap(wrapped_key)
    try:
        raw = AESGCM(data_key).decrypt(nonce, sealed, _AAD)
    except InvalidTag:
        raise InvalidWalletCiphertext("the wallet ciphertext failed authentication") from None
    return "0x" + raw.hex()


def _split(blob: bytes) -> tuple[bytes, bytes, bytes]:
    """(wrapped data key, nonce, ciphertext + tag) of a sealed wallet."""
    if len(blob) < 3 or blob[0] != _VERSION:
        raise InvalidWalletCiphertext("not a version-1 wallet ciphertext")
    nonce_at = 3 + int.from_bytes(blob[1:3], "big")
    sealed_at = nonce_at + _NONCE_BYTES
    if len(blob) <= sealed_at:
        raise InvalidWalletCiphertext("truncated wallet ciphertext")
    return blob[3:nonce_at], blob[nonce_at:sealed_at], blob[sealed_at:]


def read_wallet(conn: Connection, creator_id: int) -> str | None:
    """A live creator's wallet address, or None (no such live creator, or no wallet)."""
    blob = conn.execute(
        text("SELECT wallet_ciphertext FROM creators WHERE id = :id AND deleted_at IS NULL"), {"id": creator_id}
    ).scalar_one_or_none()
    return None if blob is None else decrypt_wallet(blob)


def find_creator_by_wallet(conn: Connection, address: str) -> int | None:
    """The live creator holding this wallet (any letter case); ValueError if it is not an address."""
    return conn.execute(
        text("SELECT id FROM creators WHERE wallet_blind_index = :index AND deleted_at IS NULL"),
        {"index": wallet_blind_index(address)},
    ).scalar_one_or_none()
