"""The seeded database and credentials the security benchmarks share."""

from __future__ import annotations

import json
import subprocess
from datetime import date, timedelta
from pathlib import Path

from bench_server import PROMOFLOW, promoflow_env

PROMOTIONS = 40
APPROVAL_TASKS = 20
READER_ROLE = "auditor"
# Generous: checked on every request, yet far above what two cores can serve in a minute.
GENEROUS_LIMITS = {
    "PROMOFLOW_RATE_LIMIT_READS": "10000000/minute",
    "PROMOFLOW_RATE_LIMIT_WRITES": "10000000/minute",
    "PROMOFLOW_RATE_LIMIT_ANONYMOUS": "10000000/minute",
}


def seed(url: str, workdir: Path) -> list[str]:
    """A small retailer, draft promotions and pending approval tasks; the promotions' codes."""
    from promoflow.approvals import service as approvals
    from promoflow.approvals.matrix import RequiredApproval
    from promoflow.config import Settings
    from promoflow.kit.clock import utcnow
    from promoflow.kit.db import transaction
    from promoflow.lifecycle import commands
    from promoflow.promotions import service as promotions
    from promoflow.promotions.schemas import PromotionCreate
    from promoflow.runtime import open_database, stop_runtime
    from promoflow.scenario import picking
    from promoflow.scenario.generator import ScenarioSize, generate

    runtime = open_database(Settings(database_url=url, data_dir=workdir))
    try:
        generate(runtime.sessions, ScenarioSize.small(), seed=7)
        with runtime.sessions() as session:
            region = picking.regions(session)[0]
            skus = picking.promotable_skus(session, region=region, count=2)
        start = date.today() + timedelta(weeks=20)
        created = []
        for n in range(PROMOTIONS):
            body = {
                "code": f"SEC-{n:03d}",
                "name": f"security overhead {n}",
                "mechanic": "percent_off",
                "discount_percent": 15 + n % 10,
                "start_date": start.isoformat(),
                "end_date": (start + timedelta(days=6)).isoformat(),
                "channels": ["pos", "ecommerce"],
                "items": skus,
                "regions": [region],
            }
            data = PromotionCreate.model_validate_json(json.dumps(body))
            created.append(commands.create_promotion(data, "mia.merch").id)
        finance = RequiredApproval(
            role="finance_approver",
            reasons=["benchmark: margin below the matrix's floor"],
            sla_hours=24,
            reminder_after_hours=12,
            escalate_to="operations_admin",
            expire_after_hours=72,
        )
        with transaction(runtime.sessions) as session:
            for promotion_id in created[:APPROVAL_TASKS]:
                promotion = promotions.get_promotion(session, promotion_id)
                approvals.open_approval_tasks(session, promotion, [finance], utcnow())
    finally:
        stop_runtime()
    return [f"SEC-{n:03d}" for n in range(PROMOTIONS)]


def _cli(url: str, workdir: Path, *args: str) -> str:
    """Run a `promoflow` command against the benchmark's database; its stdout."""
    done = subprocess.run(
        [PROMOFLOW, *args],
        env=promoflow_env(url, workdir, {}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"promoflow {args[0]} {args[1]} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def credentials(url: str, workdir: Path) -> tuple[str, str]:
    """An API key record and a development-issuer token, both for an auditor of every banner."""
    scope = ["--role", READER_ROLE, "--banner", "*"]
    key = _cli(url, workdir, "auth", "keys", "create", "--name", "bench-reader", *scope,
               "--days", "1", "--by", "security-overhead")  # fmt: skip
    token = _cli(url, workdir, "auth", "token", "--user", "rita.reader", *scope,
                 "--minutes", "1440")  # fmt: skip
    return key.splitlines()[-1], token.splitlines()[-1]
