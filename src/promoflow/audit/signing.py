"""Checkpoint signatures: an Ed25519 key in the data directory, its public half exportable.

An auditor verifies offline with the public key alone (`promoflow audit public-key`):
the private key never leaves the server's data directory (or the configured path).
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from promoflow.kit.errors import InvalidInput

KEY_FILE = "audit-checkpoint-key.pem"


def checkpoint_message(sequence: int, chain_hash: str) -> bytes:
    """The signed bytes: the chain is intact up to `sequence`, whose hash is `chain_hash`."""
    return f"promoflow-audit-checkpoint\n{sequence}\n{chain_hash}".encode("ascii")


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short fingerprint of the public key, stored with each checkpoint."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:32]


def public_pem(public_key: Ed25519PublicKey) -> str:
    """The public key as PEM (SubjectPublicKeyInfo): what an auditor is handed."""
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


@dataclass(frozen=True)
class Notary:
    """Signs checkpoints; `every` records one is taken on append (0: only on demand)."""

    private_key: Ed25519PrivateKey
    every: int

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    @property
    def key_id(self) -> str:
        return key_id(self.public_key)

    def sign(self, sequence: int, chain_hash: str) -> str:
        signature = self.private_key.sign(checkpoint_message(sequence, chain_hash))
        return base64.b64encode(signature).decode("ascii")


def signature_holds(
    public_key: Ed25519PublicKey, sequence: int, chain_hash: str, signature: str
) -> bool:
    """Whether `signature` is the key's signature over (sequence, hash)."""
    try:
        public_key.verify(base64.b64decode(signature), checkpoint_message(sequence, chain_hash))
    except (InvalidSignature, ValueError):
        return False
    return True


def read_public_key(path: Path) -> Ed25519PublicKey:
    """An auditor's copy of the public key (PEM); a clear error when it is not one."""
    try:
        loaded = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as error:
        raise InvalidInput(
            "public_key", str(path), f"not a readable PEM public key ({error})"
        ) from None
    if not isinstance(loaded, Ed25519PublicKey):
        raise InvalidInput("public_key", str(path), "not an Ed25519 public key")
    return loaded


@lru_cache(maxsize=4)
def load_notary(path: Path, every: int) -> Notary:
    """The signing key at `path`, created (owner-only) the first time it is needed."""
    if path.exists():
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(loaded, Ed25519PrivateKey):
            raise InvalidInput("audit_signing_key", str(path), "not an Ed25519 private key")
        return Notary(loaded, every)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written whole under a private name, then linked into place: a second process
    # creating the key at the same moment finds either no file or a complete one,
    # and the first link wins.
    draft = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    try:
        os.link(draft, path)
    except FileExistsError:
        return load_notary.__wrapped__(path, every)
    finally:
        draft.unlink()
    return Notary(key, every)
