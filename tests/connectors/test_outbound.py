"""What a connection may reach: secret references, hosts and folders, checked by the framework."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from structlog.testing import capture_logs

from promoflow import connectors
from promoflow.config import Settings
from promoflow.connectors.framework import ConfigField, ConnectorConfig, Manifest
from promoflow.connectors.http import guarded_request
from promoflow.connectors.outbound import OutboundPolicy, OutboundRefused
from promoflow.connectors.resilience import Guard, RetryPolicy
from promoflow.kit.errors import InvalidInput

MANIFEST = Manifest(
    slug="reach-test",
    name="Reach (tests)",
    kind="erp",
    protocol="none",
    capabilities=(),
    config=(
        ConfigField("base_url", "url"),
        ConfigField("password", secret=True),
        ConfigField("inbox", "path", required=False),
    ),
)


@pytest.fixture
def secrets(tmp_path: Path) -> Path:
    folder = tmp_path / "secrets"
    folder.mkdir()
    (folder / "erp-password").write_text("pa55word\n")
    return folder


@pytest.fixture
def drops(tmp_path: Path) -> Path:
    folder = tmp_path / "drops"
    (folder / "inbox").mkdir(parents=True)
    return folder


@pytest.fixture
def policy(secrets: Path, drops: Path) -> OutboundPolicy:
    return OutboundPolicy.from_settings(
        Settings(
            connector_secret_env_prefixes="PROMOFLOW_SECRET_",
            connector_secrets_dir=secrets,
            connector_allowed_hosts="erp.example.com,*.retailer.example,10.20.0.0/16",
            connector_allowed_folders=str(drops),
        )
    )


def config(policy: OutboundPolicy, **values: Any) -> ConnectorConfig:
    settings = {"base_url": "https://erp.example.com", "password": "file:erp-password", **values}
    return ConnectorConfig(MANIFEST, settings, policy)


@pytest.mark.parametrize(
    "reference",
    [
        "env:PROMOFLOW_API_KEYS",
        "env:PROMOFLOW_DATABASE_URL",
        "env:HOME",
        "env:PROMOFLOW_SECRET",  # the prefix itself is not a name under it
        "file:/etc/hostname",
        "file:../../../../etc/hostname",
        "file:/etc/promoflow-no-such-secret",
    ],
)
def test_a_secret_reference_outside_the_allow_lists_is_refused_naming_it(
    policy: OutboundPolicy, reference: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        config(policy, password=reference)

    assert (refused.value.field, refused.value.value) == ("config.password", reference)
    assert "PROMOFLOW_CONNECTOR_SECRET" in refused.value.reason


def test_a_secret_file_is_read_by_name_or_full_path_inside_the_folder(
    policy: OutboundPolicy, secrets: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMOFLOW_SECRET_ERP", "from-the-environment")

    assert config(policy).secret("password") == "pa55word"
    full = f"file:{secrets / 'erp-password'}"
    assert config(policy, password=full).secret("password") == "pa55word"
    assert config(policy, password="env:PROMOFLOW_SECRET_ERP").secret("password") == (
        "from-the-environment"
    )


def test_an_unreadable_secret_reads_the_same_whatever_the_cause(
    policy: OutboundPolicy, secrets: Path
) -> None:
    """Missing, a link out of the folder to a file that exists, a folder, an unset variable."""
    (secrets / "hostname").symlink_to("/etc/hostname")
    (secrets / "gone").symlink_to("/etc/promoflow-no-such-secret")
    (secrets / "a-folder").mkdir()
    references = [
        "file:missing",
        "file:hostname",
        "file:gone",
        "file:a-folder",
        "env:PROMOFLOW_SECRET_NOT_SET_ANYWHERE",
    ]
    messages = []
    with capture_logs() as logs:
        for reference in references:
            with pytest.raises(InvalidInput) as refused:
                config(policy, password=reference).secret("password")
            messages.append(str(refused.value).replace(reference, "REF"))

    assert len(set(messages)) == 1, messages
    assert "cannot be read" in messages[0]
    assert Path("/etc/hostname").read_text().strip() not in messages[0]
    causes = [entry["cause"] for entry in logs if entry["event"] == "secret_unreadable"]
    assert causes == [
        "no such file",
        "a link out of the secrets folder",
        "a link out of the secrets folder",
        "no such file",
        "not set",
    ]


def test_a_stored_reference_is_checked_again_when_the_secret_is_read(
    policy: OutboundPolicy,
) -> None:
    """A config built under wider settings still reads nothing the current ones forbid."""
    wide = OutboundPolicy.from_settings(Settings(connector_secret_env_prefixes="HOME"))
    built = config(wide, password="env:HOME")
    built.policy = policy  # the operator narrowed the settings since

    with pytest.raises(InvalidInput, match="cannot be read"):
        built.secret("password")


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("erp.example.com", True),
        ("ERP.Example.COM.", True),
        ("stores.retailer.example", True),
        ("a.b.retailer.example", True),
        ("retailer.example", False),  # *. names subdomains only
        ("evilretailer.example", False),
        ("erp.example.com.evil.example", False),
        ("10.20.3.4", True),
        ("10.21.0.1", False),
        ("127.0.0.1", False),
        ("localhost", False),
        ("2130706433", False),  # 127.0.0.1 written as one number
        ("[::ffff:10.20.3.4]", False),  # fails closed: the list names IPv4 only
    ],
)
def test_hosts_are_matched_by_name_wildcard_and_range(
    policy: OutboundPolicy, host: str, allowed: bool
) -> None:
    url = f"https://{host}/api"
    if allowed:
        config(policy, base_url=url)
    else:
        with pytest.raises(InvalidInput) as refused:
            config(policy, base_url=url)
        assert (refused.value.field, refused.value.value) == ("config.base_url", url)
        assert "PROMOFLOW_CONNECTOR_ALLOWED_HOSTS" in refused.value.reason


def test_unset_hosts_mean_loopback_in_development_and_nothing_in_production() -> None:
    development = Settings(environment="development", connector_allowed_hosts=None)
    production = Settings(environment="production", connector_allowed_hosts=None)

    assert development.connector_hosts().allows("127.0.0.1")
    assert development.connector_hosts().allows("localhost")
    assert not development.connector_hosts().allows("erp.example.com")
    assert not production.connector_hosts().allows("127.0.0.1")
    assert not production.connector_hosts().allows("erp.example.com")


def test_a_request_to_a_host_not_allowed_never_leaves_and_is_not_retried(
    policy: OutboundPolicy,
) -> None:
    sent: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda request: sent.append(request) or httpx.Response(200))
    client = config(policy).http_client("erp-reach", transport=transport)
    guard = Guard("erp-reach", retry=RetryPolicy(attempts=4), sleep=lambda _s: None)

    with pytest.raises(OutboundRefused) as refused:
        guarded_request(client, guard, "read items", "GET", "http://127.0.0.1:9/items")

    assert sent == []
    assert not refused.value.retryable
    assert "nothing sent" in str(refused.value)


def test_a_redirect_to_a_host_not_allowed_is_not_followed(policy: OutboundPolicy) -> None:
    sent: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(str(request.url))
        return httpx.Response(302, headers={"Location": "http://attacker.example.net/collect"})

    client = config(policy).http_client(
        "erp-reach", transport=httpx.MockTransport(answer), follow_redirects=True
    )

    with pytest.raises(OutboundRefused, match=r"attacker\.example\.net"):
        client.get("https://erp.example.com/items", headers={"Authorization": "Bearer x"})
    assert sent == ["https://erp.example.com/items"]


def test_paths_must_stay_inside_the_allowed_folders(
    policy: OutboundPolicy, drops: Path, tmp_path: Path
) -> None:
    config(policy, inbox=str(drops / "inbox"))
    (drops / "etc").symlink_to("/etc")
    for path in ("/etc", str(drops / ".." / "secrets"), str(drops / "etc"), str(tmp_path)):
        with pytest.raises(InvalidInput) as refused:
            config(policy, inbox=path)
        assert (refused.value.field, refused.value.value) == ("config.inbox", path)
        assert "PROMOFLOW_CONNECTOR_ALLOWED_FOLDERS" in refused.value.reason


def test_the_environment_configures_the_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMOFLOW_CONNECTOR_ALLOWED_HOSTS", "erp.example.com, *.example.org")
    monkeypatch.setenv("PROMOFLOW_CONNECTOR_SECRET_ENV_PREFIXES", "ERP_SECRET_,PROMOFLOW_SECRET_")

    policy = OutboundPolicy.from_settings(Settings())

    assert policy.hosts.allows("erp.example.com") and policy.hosts.allows("a.example.org")
    assert policy.env_prefixes == ("ERP_SECRET_", "PROMOFLOW_SECRET_")


def test_connectors_make_their_http_clients_through_the_policy() -> None:
    """A connector building its own client would send without the host check."""
    package = Path(connectors.__file__).parent
    own_clients = re.compile(r"httpx\.(Async)?Client\(|requests\.(Session|get|post|request)\(")
    offenders = [
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if path.name != "outbound.py" and own_clients.search(path.read_text(encoding="utf-8"))
    ]

    assert offenders == []
