"""Signing keys, a JWKS served over real HTTP on 127.0.0.1, and tokens, for the identity tests.

The JWKS is the document RFC 7517 section 5 defines (`{"keys": [JWK, ...]}`) and
the tokens are RFC 7519 JWTs, signed with PyJWT as an identity provider would:
RS256 with a 2048-bit RSA key (RFC 7518 section 3.3) or ES256 with P-256.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

ISSUER = "https://login.example.test/realms/retail"
AUDIENCE = "promoflow"


@dataclass
class SigningKey:
    """A provider's key pair: `private` signs, `jwk` is what its JWKS publishes."""

    kid: str
    algorithm: str
    private: Any
    jwk: dict[str, Any]


def rsa_key(kid: str) -> SigningKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = dict(RSAAlgorithm.to_jwk(private.public_key(), as_dict=True))
    return SigningKey(kid, "RS256", private, {**jwk, "kid": kid, "use": "sig", "alg": "RS256"})


def ec_key(kid: str) -> SigningKey:
    private = ec.generate_private_key(ec.SECP256R1())
    jwk = dict(ECAlgorithm.to_jwk(private.public_key(), as_dict=True))
    return SigningKey(kid, "ES256", private, {**jwk, "kid": kid, "use": "sig", "alg": "ES256"})


def claims(**overrides: Any) -> dict[str, Any]:
    """A valid access token's claims for ana, merchandiser of FreshMart, for 5 minutes."""
    now = int(time.time())
    base: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "5f0c1c9e-ana",
        "name": "ana",
        "promoflow_role": "merchandiser",
        "promoflow_banners": ["FreshMart"],
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": "token-1",
    }
    base.update(overrides)
    return {name: value for name, value in base.items() if value is not None}


def sign(key: SigningKey, payload: dict[str, Any], *, kid: str | None = None) -> str:
    """A JWT signed by `key`, its header naming `kid` (the key's own by default)."""
    headers = {"kid": kid or key.kid}
    return jwt.encode(payload, key.private, algorithm=key.algorithm, headers=headers)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(payload: dict[str, Any], kid: str) -> str:
    """A token with `alg: none` and an empty signature (RFC 7519 section 6.1)."""
    header = {"alg": "none", "typ": "JWT", "kid": kid}
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}."


def hmac_signed_with(secret: bytes, payload: dict[str, Any], kid: str) -> str:
    """HS256 keyed with `secret` (e.g. the issuer's public key): the algorithm-confusion attack."""
    import hashlib
    import hmac

    header = {"alg": "HS256", "typ": "JWT", "kid": kid}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


@dataclass
class JwksServer:
    """A provider's JWKS endpoint: `publish` swaps the keys, `requests` counts fetches."""

    url: str
    keys: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0

    def publish(self, *keys: SigningKey) -> None:
        self.keys = [key.jwk for key in keys]


@contextmanager
def jwks_server(*keys: SigningKey) -> Iterator[JwksServer]:
    """Serve a JWKS at http://127.0.0.1:<free port>/jwks on a thread."""
    state = JwksServer(url="")
    state.publish(*keys)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests += 1
            body = json.dumps({"keys": state.keys}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/jwks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
