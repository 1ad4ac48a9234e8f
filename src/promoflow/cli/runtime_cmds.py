"""`promoflow serve` and `promoflow worker`: the long-running processes."""

from __future__ import annotations

import signal
import threading

import typer

from promoflow.cli.common import console, handles_errors
from promoflow.config import get_settings
from promoflow.kit.logging import configure_logging


@handles_errors
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to bind"),
    port: int = typer.Option(8000, help="Port to listen on"),
) -> None:
    """Run the API (and, unless PROMOFLOW_RUN_WORKFLOWS=false, the workflows it starts)."""
    import uvicorn

    from promoflow.app import create_app
    from promoflow.runtime import exit_process

    configure_logging()
    settings = get_settings()
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_level="info",
        # A load balancer that reuses a connection the server has just closed
        # answers its client 502; outliving the balancer's idle timeout avoids it.
        timeout_keep_alive=settings.api_keep_alive_seconds,
    )
    exit_process(0)  # the lifespan has stopped the runtime


@handles_errors
def worker() -> None:
    """Run workflows: recovers this executor's pending workflows, takes queued ones, waits."""
    from promoflow.runtime import exit_process, start_runtime, stop_runtime

    configure_logging()
    settings = get_settings()
    start_runtime(settings)
    console.print(f"worker [bold]{settings.executor_id}[/] running; Ctrl-C to stop")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    stop_runtime()
    exit_process(0)
