"""What to know about the sandbox estate in a ticket: it is a simulation, and which systems.

Nothing leaves the process: the "systems" are tables in promoflow's own database,
and faults injected into them (`promoflow demo` and the tests set them) are what
makes their calls fail, so the ticket names them.
"""

from __future__ import annotations

from promoflow.connectors.framework import ConnectorConfig, SystemDetails
from promoflow.connectors.sandbox.faults import SYSTEMS
from promoflow.connectors.sandbox.settings import SandboxSettings

SPEAKS = "in-database simulation (sandbox_* tables); faults injected through sandbox_faults"


def system_details(config: ConnectorConfig) -> SystemDetails:
    read = SandboxSettings.read(config)
    return SystemDetails(
        speaks=SPEAKS,
        details={"simulated_systems": list(SYSTEMS), "page_size": read.page_size},
    )
