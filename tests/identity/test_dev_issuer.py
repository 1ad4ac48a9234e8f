"""The development issuer: one key, kept private in the data folder, trusted only where allowed."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from promoflow.config import Settings
from promoflow.identity import dev_issuer
from promoflow.identity.schemas import AuthMethod, BannerScope, IdentityMisconfigured
from promoflow.identity.startup import check_settings, dev_issuer_trusted, token_verifier
from promoflow.kit.clock import utcnow
from promoflow.kit.roles import Role


def _mint(data_dir: Path, **overrides: object) -> str:
    arguments: dict[str, object] = {
        "user": "ana",
        "role": Role.MERCHANDISER,
        "banners": BannerScope.of(["FreshMart"]),
        "audience": "promoflow",
        "now": utcnow(),
    }
    arguments.update(overrides)
    return dev_issuer.mint(data_dir, **arguments)  # type: ignore[arg-type]


def test_the_key_is_generated_once_and_readable_only_by_its_owner(tmp_path: Path) -> None:
    first = _mint(tmp_path)
    path = dev_issuer.key_path(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    before = path.read_bytes()
    _mint(tmp_path)
    assert path.read_bytes() == before  # kept, not regenerated
    assert first.count(".") == 2


def test_a_key_file_others_can_read_is_refused(tmp_path: Path) -> None:
    _mint(tmp_path)
    dev_issuer.key_path(tmp_path).chmod(0o644)
    with pytest.raises(IdentityMisconfigured, match="readable by others"):
        _mint(tmp_path)


def test_its_token_stands_for_the_user_in_development(tmp_path: Path) -> None:
    settings = Settings(environment="development", data_dir=tmp_path)
    token = _mint(tmp_path, banners=BannerScope.of(["*"]), role=Role.AUDITOR)
    principal = token_verifier(settings).verify(token)
    assert (principal.name, principal.role, principal.subject) == ("ana", "auditor", "dev:ana")
    assert principal.method is AuthMethod.DEV_TOKEN
    assert principal.banners.every
    assert principal.credential_id  # the token's jti


def test_it_is_off_in_production_and_refused_there_unless_explicitly_allowed(
    tmp_path: Path,
) -> None:
    assert not dev_issuer_trusted(Settings(environment="production", data_dir=tmp_path))
    insisted = Settings(environment="production", data_dir=tmp_path, dev_issuer=True)
    with pytest.raises(IdentityMisconfigured, match="PROMOFLOW_DEV_ISSUER_OUTSIDE_DEVELOPMENT"):
        check_settings(insisted)
    allowed = insisted.model_copy(update={"dev_issuer_outside_development": True})
    check_settings(allowed)
    assert dev_issuer_trusted(allowed)


def test_the_api_keys_list_is_refused_in_production(tmp_path: Path) -> None:
    settings = Settings(environment="production", data_dir=tmp_path, api_keys="k:ana:auditor")
    with pytest.raises(IdentityMisconfigured, match="PROMOFLOW_API_KEYS is a development"):
        check_settings(settings)


@pytest.mark.parametrize(
    ("update", "complaint"),
    [
        ({"auth_issuer": "https://login.example.test"}, "needs PROMOFLOW_AUTH_JWKS_URL"),
        (
            {
                "auth_issuer": "https://idp.example.test",
                "auth_jwks_url": "http://idp.example.test/k",
            },
            "must use https",
        ),
        ({"auth_issuer": "https://idp.example.test", "auth_jwks_url": "ftp://x"}, "not an http"),
    ],
)
def test_an_issuer_setting_that_cannot_work_stops_startup_naming_it(
    tmp_path: Path, update: dict[str, str], complaint: str
) -> None:
    settings = Settings(environment="development", data_dir=tmp_path).model_copy(update=update)
    with pytest.raises(IdentityMisconfigured, match=complaint):
        check_settings(settings)
