"""`promoflow audit verify|export|checkpoint|public-key`: the audit log for auditors."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from promoflow.audit import service, trail
from promoflow.audit.signing import public_pem, read_public_key
from promoflow.audit.verification import verify as verify_chain
from promoflow.cli.common import console, err_console, handles_errors
from promoflow.kit.db import reading, transaction
from promoflow.kit.errors import InvalidInput
from promoflow.runtime import open_database

app = typer.Typer(no_args_is_help=True)


@app.command("verify")
@handles_errors
def verify(
    public_key: Path | None = typer.Option(
        None, "--public-key", help="PEM public key for the checkpoints (default: the server's)"
    ),
) -> None:
    """Walk the hash chain and the signed checkpoints; exit 1 naming any record not as written."""
    runtime = open_database()
    key: Ed25519PublicKey | None = None
    if public_key is not None:
        key = read_public_key(public_key)
    elif trail.signing_key_path().exists():
        key = trail.notary().public_key
    with reading(runtime.sessions) as session:
        result = verify_chain(session, key)
    if result.intact:
        console.print(
            f"audit log intact: {result.records} records, {result.checkpoints} signed "
            f"checkpoints (the last at record {result.last_checkpoint})"
        )
        return
    first = result.findings[0]
    err_console.print(f"[bold red]audit log tampered:[/] first: {first}")
    for finding in result.findings[1:]:
        err_console.print(f"  also: {finding}")
    raise typer.Exit(code=1)


@app.command("export")
@handles_errors
def export(
    since: str | None = typer.Option(None, help="Only records at or after this ISO 8601 time"),
    out: Path | None = typer.Option(None, "--out", help="Write here instead of standard output"),
) -> None:
    """Write the log as JSON lines, one record a line, in chain order (hashes included)."""
    start = _when(since) if since else None
    runtime = open_database()
    with reading(runtime.sessions) as session:
        lines = (record.model_dump_json() + "\n" for record in service.export(session, start))
        if out is None:
            for line in lines:
                typer.echo(line, nl=False)
            return
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", encoding="utf-8") as handle:
            count = sum(1 for line in lines if handle.write(line))
    err_console.print(f"{count} audit records written to {out}")


@app.command("checkpoint")
@handles_errors
def checkpoint() -> None:
    """Sign the chain's head now (besides the checkpoint taken every N records)."""
    runtime = open_database()
    with transaction(runtime.sessions) as session:
        signed = service.checkpoint(session, trail.notary())
    if signed is None:
        console.print("nothing to sign: the log is empty or its head is signed already")
    else:
        console.print(f"checkpoint signed at record {signed.sequence} (key {signed.key_id})")


@app.command("public-key")
@handles_errors
def public_key(
    out: Path | None = typer.Option(None, "--out", help="Write here instead of standard output"),
) -> None:
    """The checkpoint key's public half (PEM), for an auditor to verify offline."""
    open_database()
    pem = public_pem(trail.notary().public_key)
    if out is None:
        typer.echo(pem, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(pem, encoding="ascii")
    err_console.print(f"public key written to {out}")


def _when(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            "since", text, "not an ISO 8601 time, e.g. 2026-12-01T00:00:00+00:00"
        ) from None
    if moment.tzinfo is None:
        raise InvalidInput("since", text, "give a time zone offset, e.g. +00:00")
    return moment
