"""The built-in development issuer of the embedded mode.

`promoflow auth token --user ana --role merchandiser` signs a token with a P-256
key generated once and kept in the data directory (mode 0600, its folder 0700);
the server trusts that key's public half as one more issuer. It is a developer's
convenience, so whether the server trusts it is decided in `startup`: on in
development and test, refused in production unless explicitly allowed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import stat
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt import PyJWK
from jwt.algorithms import ECAlgorithm

from promoflow.identity.schemas import (
    ALL_BANNERS,
    BannerScope,
    ClaimMapping,
    IdentityMisconfigured,
)
from promoflow.kit.roles import Role

ISSUER = "urn:promoflow:dev-issuer"
ALGORITHM = "ES256"
KEY_FILE = Path("identity") / "dev-issuer-key.pem"
# The claims this issuer writes; an external issuer's are settings.
CLAIMS = ClaimMapping(
    subject="sub", name="name", role="promoflow_role", banners="promoflow_banners"
)
MAX_MINUTES = 24 * 60


def key_path(data_dir: Path) -> Path:
    """Where the development issuer's private key is kept."""
    return data_dir / KEY_FILE


def signing_key(data_dir: Path) -> ec.EllipticCurvePrivateKey:
    """The issuer's private key: read it, or generate it the first time (mode 0600)."""
    path = key_path(data_dir)
    if not path.exists():
        _create(path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise IdentityMisconfigured(
            f"the development issuer's key {path} is readable by others (mode {mode:o}); "
            f"run `chmod 600 {path}` or delete it to have a new one generated"
        )
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise IdentityMisconfigured(f"{path} does not hold a P-256 private key; delete it")
    return key


def _create(path: Path) -> None:
    # Written beside its final name and linked into place: a second process starting at
    # the same moment either wins the link or reads the finished file, never half of it.
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    draft = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink(missing_ok=True)


def public_jwk(key: ec.EllipticCurvePrivateKey) -> dict[str, Any]:
    """The public key as a JWK, its kid the RFC 7638 thumbprint."""
    jwk: dict[str, Any] = dict(ECAlgorithm.to_jwk(key.public_key(), as_dict=True))
    members = {name: jwk[name] for name in ("crv", "kty", "x", "y")}
    digest = hashlib.sha256(json.dumps(members, separators=(",", ":")).encode()).digest()
    kid = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return {**jwk, "kid": kid, "alg": ALGORITHM, "use": "sig"}


def verification_keys(data_dir: Path) -> dict[str, PyJWK]:
    """The issuer's public key by kid, as the verifier takes it."""
    jwk = public_jwk(signing_key(data_dir))
    return {jwk["kid"]: PyJWK(jwk)}


def mint(
    data_dir: Path,
    *,
    user: str,
    role: Role,
    banners: BannerScope,
    audience: str,
    now: datetime,
    minutes: int = 60,
) -> str:
    """A signed token for `user` in `role`, valid for `minutes` from `now`."""
    key = signing_key(data_dir)
    claims = {
        "iss": ISSUER,
        "aud": audience,
        "sub": f"dev:{user}",
        "name": user,
        CLAIMS.role: role.value,
        CLAIMS.banners: [ALL_BANNERS] if banners.every else sorted(banners.names),
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(minutes=minutes),
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": public_jwk(key)["kid"]})
