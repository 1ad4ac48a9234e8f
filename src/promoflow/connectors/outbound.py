"""What a connection may reach: secrets, hosts and folders allowed by the server's settings.

An operations admin configures connections through the API; whoever runs the
server decides, in Settings, what those may touch:

- a secret reference `env:NAME` only names a variable starting with an allowed
  prefix (`PROMOFLOW_CONNECTOR_SECRET_ENV_PREFIXES`), `file:PATH` only a file inside
  the secrets folder (`PROMOFLOW_CONNECTOR_SECRETS_DIR`; a relative PATH is taken
  from there), after `..` and symbolic links;
- a request only leaves for an allowed host (`PROMOFLOW_CONNECTOR_ALLOWED_HOSTS`):
  every request of a client from `http_client`, redirects and token calls
  included, is checked before it is sent;
- a path setting (drop folders) only points inside an allowed folder
  (`PROMOFLOW_CONNECTOR_ALLOWED_FOLDERS`).

References, URLs and paths are checked when a connection is added (a clear
error naming the field and the reference) and again whenever its connector is
built or calls out, since settings change and stored rows may predate them.
A secret that cannot be read fails with one message whatever the cause (not
allowed, not set, missing, unreadable), so the test of a connection never says
what exists on the server; the cause, never the value, goes to the server log.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import httpx

from promoflow.config import Settings, get_settings
from promoflow.connectors.ports import ConnectorError
from promoflow.kit.allowlists import (
    ENV_NAME,
    HostAllowList,
    lexical,
    really_inside,
    split_list,
    written_inside,
)
from promoflow.kit.errors import InvalidInput
from promoflow.kit.logging import get_logger

log = get_logger(__name__)
UNREADABLE = "cannot be read: not allowed, not set or not readable (the server log says which)"


class OutboundRefused(ConnectorError):
    """A request to a host the settings do not allow; nothing was sent, retrying cannot help."""

    def __init__(self, system: str, message: str) -> None:
        super().__init__(system, message, retryable=False)


@dataclass(frozen=True)
class OutboundPolicy:
    """The allow-lists of one process, read from its Settings."""

    env_prefixes: tuple[str, ...]
    secrets_dir: Path
    hosts: HostAllowList
    folders: tuple[Path, ...]

    @classmethod
    def from_settings(cls, settings: Settings) -> OutboundPolicy:
        return cls(
            env_prefixes=split_list(settings.connector_secret_env_prefixes),
            secrets_dir=settings.connector_secrets_folder(),
            hosts=settings.connector_hosts(),
            folders=settings.connector_folders(),
        )

    # -- secrets ------------------------------------------------------------------------

    def check_secret_reference(self, field: str, reference: str) -> None:
        """Refuse a reference outside the allow-lists; decided from the text alone."""
        scheme, _, target = reference.partition(":")
        if scheme == "env":
            if not ENV_NAME.match(target):
                raise InvalidInput(field, reference, "env: takes an environment variable name")
            if not self.env_prefixes:
                raise InvalidInput(
                    field,
                    reference,
                    "secrets from environment variables are turned off on this server "
                    "(PROMOFLOW_CONNECTOR_SECRET_ENV_PREFIXES is empty); use file:NAME",
                )
            if not target.startswith(self.env_prefixes):
                raise InvalidInput(
                    field,
                    reference,
                    f"a connection may only read environment variables starting with "
                    f"{' or '.join(self.env_prefixes)} (PROMOFLOW_CONNECTOR_SECRET_ENV_PREFIXES)",
                )
            return
        if scheme != "file":
            raise InvalidInput(field, reference, "a secret is a reference, env:NAME or file:NAME")
        if not target.strip():
            raise InvalidInput(field, reference, "file: takes the name of a file")
        if not written_inside(self.secrets_dir, self._secret_path(target)):
            raise InvalidInput(
                field,
                reference,
                f"a secret file must be inside the secrets folder {lexical(self.secrets_dir)} "
                "(PROMOFLOW_CONNECTOR_SECRETS_DIR); write file:NAME for a file there",
            )

    def read_secret(self, field: str, reference: str) -> str:
        """The secret behind a reference, or one InvalidInput that does not say why."""
        try:
            self.check_secret_reference(field, reference)
        except InvalidInput as refused:
            self._unreadable(field, reference, refused.reason)
        scheme, _, target = reference.partition(":")
        if scheme == "env":
            value = os.environ.get(target)
            if value is None:
                self._unreadable(field, reference, "not set")
            return value
        real = self._secret_path(target).resolve()
        if not really_inside(self.secrets_dir, real):
            self._unreadable(field, reference, "a link out of the secrets folder")
        try:
            if not real.is_file():
                self._unreadable(field, reference, "no such file")
            return real.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeError) as error:
            self._unreadable(field, reference, type(error).__name__)

    def _secret_path(self, target: str) -> Path:
        path = Path(target)
        return path if path.is_absolute() else self.secrets_dir / path

    @staticmethod
    def _unreadable(field: str, reference: str, cause: str) -> NoReturn:
        log.warning("secret_unreadable", field=field, reference=reference, cause=cause)
        raise InvalidInput(field, reference, UNREADABLE)

    # -- hosts --------------------------------------------------------------------------

    def check_url(self, field: str, url: str) -> None:
        """Refuse a URL whose host connections may not call."""
        try:
            host = httpx.URL(url).raw_host.decode("ascii")
        except (httpx.InvalidURL, UnicodeError):
            raise InvalidInput(field, url, "is not a URL") from None
        if not self.hosts.allows(host):
            raise InvalidInput(field, url, self._host_refusal(host))

    def check_host(self, system: str, host: str | None) -> None:
        """Refuse a request before it leaves for a host not allowed."""
        if not self.hosts.allows(host):
            log.warning("outbound_refused", connection=system, host=host)
            raise OutboundRefused(system, f"nothing sent: {self._host_refusal(host or '')}")

    def _host_refusal(self, host: str) -> str:
        return (
            f"host {host!r} is not one connections may call on this server "
            f"(PROMOFLOW_CONNECTOR_ALLOWED_HOSTS: {self.hosts.describe()})"
        )

    def http_client(self, system: str, **options: Any) -> httpx.Client:
        """An httpx client whose every request, redirects and token calls too, is host-checked."""

        def check(request: httpx.Request) -> None:
            self.check_host(system, request.url.raw_host.decode("ascii"))

        return httpx.Client(event_hooks={"request": [check]}, **options)

    # -- folders ------------------------------------------------------------------------

    def check_path(self, field: str, path: str) -> None:
        """Refuse a file or folder outside the folders connections may use."""
        if not any(really_inside(root, Path(path)) for root in self.folders):
            allowed = ", ".join(str(lexical(root)) for root in self.folders) or "none"
            raise InvalidInput(
                field,
                path,
                f"must be inside a folder connections may use "
                f"(PROMOFLOW_CONNECTOR_ALLOWED_FOLDERS: {allowed})",
            )


def current_policy() -> OutboundPolicy:
    """The allow-lists of this process's settings."""
    return OutboundPolicy.from_settings(get_settings())
