"""Settings refuse allow-lists that would open what they are meant to close."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from promoflow.config import Settings


def test_the_shipped_secret_prefix_exposes_no_setting() -> None:
    default = Settings.model_fields["connector_secret_env_prefixes"].default

    settings = Settings(connector_secret_env_prefixes=default)

    assert settings.connector_secret_env_prefixes == "PROMOFLOW_SECRET_"


@pytest.mark.parametrize(
    ("prefix", "exposed"),
    [
        ("PROMOFLOW_", "PROMOFLOW_API_KEYS"),
        ("PROMOFLOW_API", "PROMOFLOW_API_KEYS"),
        ("promoflow_database", "PROMOFLOW_DATABASE_URL"),
        ("PROMOFLOW_SECRET_,PROMOFLOW_CONNECTOR_", "PROMOFLOW_CONNECTOR_ALLOWED_FOLDERS"),
    ],
)
def test_a_secret_prefix_that_would_expose_a_setting_is_refused(prefix: str, exposed: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(connector_secret_env_prefixes=prefix)

    assert "connector_secret_env_prefixes" in str(refused.value)
    assert exposed in str(refused.value)


def test_a_host_entry_that_is_no_host_is_refused_naming_it() -> None:
    with pytest.raises(ValidationError, match=r"'https://erp\.example\.com'"):
        Settings(connector_allowed_hosts="erp.example.com,https://erp.example.com")


def test_a_drop_folder_may_not_hold_the_secrets_folder(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="overlaps the secrets folder"):
        Settings(
            connector_secrets_dir=tmp_path / "promoflow" / "secrets",
            connector_allowed_folders=f"{tmp_path / 'drops'},{tmp_path / 'promoflow'}",
        )


def test_unset_lists_default_under_the_data_folder(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, connector_secrets_dir=None, connector_allowed_folders=None
    )

    assert settings.connector_secrets_folder() == tmp_path / "secrets"
    assert settings.connector_folders() == (tmp_path / "drops",)


def test_amounts_default_to_euros_written_the_british_way() -> None:
    settings = Settings()

    assert (settings.currency, settings.locale) == ("EUR", "en_GB")


def test_a_currency_and_locale_are_read_in_their_canonical_form(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PROMOFLOW_CURRENCY", "jpy")
    monkeypatch.setenv("PROMOFLOW_LOCALE", "ja-JP")

    settings = Settings()

    assert (settings.currency, settings.locale) == ("JPY", "ja_JP")


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("PROMOFLOW_CURRENCY", "XYZ", "PROMOFLOW_CURRENCY='XYZ' is not an ISO 4217 currency code"),
        ("PROMOFLOW_CURRENCY", "euro", "PROMOFLOW_CURRENCY='euro' is not an ISO 4217"),
        ("PROMOFLOW_LOCALE", "xx_YY", "PROMOFLOW_LOCALE='xx_YY' is not a locale Babel knows"),
    ],
)
def test_an_unknown_currency_or_locale_is_refused_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(ValidationError, match=re.escape(message)):
        Settings()
