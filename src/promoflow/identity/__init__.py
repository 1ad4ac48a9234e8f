"""Identity: who is calling, proven by a bearer token or an API key.

`schemas.Principal` is what every other package sees of a caller: a stable
subject id, a display name, one role, the banners the caller may act for, and
how it proved itself. `tokens` verifies OAuth2/OIDC bearer tokens against an
issuer's JWKS (`jwks`), `dev_issuer` is the built-in issuer of the embedded mode,
and `service` keeps API keys as records (hashed, scoped, expiring, revocable).
"""
