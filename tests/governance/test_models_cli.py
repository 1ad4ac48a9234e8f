"""`promoflow models`: list, show, register and promote as an operator would."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from governance_support import DATA_HASH, backtest_document, unique_tag
from typer.testing import CliRunner

from promoflow.cli.main import app
from promoflow.forecasting import registry
from promoflow.kit.db import transaction
from promoflow.runtime import get_runtime

runner = CliRunner()


def register_pair(kind: str) -> tuple[str, str]:
    """Two candidates of `kind` in the runtime database: 0.40 and 0.30 promo WAPE."""
    versions = (f"{kind}-a", f"{kind}-b")
    with transaction(get_runtime().sessions) as session:
        for version, figure in zip(versions, (0.40, 0.30), strict=True):
            registry.register_candidate(
                session, version=version, backtest=backtest_document(figure), data_hash=DATA_HASH,
                training_start="2024-07-07", training_end="2026-06-28", features=["lag_1"],
                kind=kind,
            )  # fmt: skip
    return versions


def shown(version: str) -> dict[str, Any]:
    result = runner.invoke(app, ["models", "show", version, "--json"])
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.output)
    return document


def promote(version: str, role: str = "supply_chain_planner") -> Any:
    return runner.invoke(
        app,
        ["models", "promote", version, "--by", "pat", "--role", role, "--reason", "wins on promos"],
    )


def test_list_promote_and_retire(runtime: object) -> None:
    kind = f"k{unique_tag().lower()}"
    first, second = register_pair(kind)
    listed = runner.invoke(app, ["models", "list", "--kind", kind])
    assert listed.exit_code == 0, listed.output
    assert first in listed.output and second in listed.output
    assert "candidate" in listed.output and "0.4000" in listed.output

    promoted = promote(first)
    assert promoted.exit_code == 0, promoted.output
    assert f"{first} is now the {kind} champion" in promoted.output

    refused = promote(second, role="merchandiser")
    assert refused.exit_code == 2
    assert "role merchandiser may not approve model promotions" in refused.output

    promoted = promote(second, role="operations_admin")
    assert promoted.exit_code == 0, promoted.output
    assert f"{first} retired" in promoted.output
    assert (shown(first)["status"], shown(second)["status"]) == ("retired", "champion")
    assert shown(second)["approver_role"] == "operations_admin"

    retired = runner.invoke(
        app, ["models", "retire", second, "--by", "olga", "--role", "operations_admin",
              "--reason", "drift after the range reset"],
    )  # fmt: skip
    assert retired.exit_code == 0, retired.output
    assert shown(second)["status_reason"] == "drift after the range reset"


def test_a_challenger_that_does_not_win_exits_2_with_both_figures(runtime: object) -> None:
    kind = f"k{unique_tag().lower()}"
    worse, better = register_pair(kind)
    assert promote(better).exit_code == 0
    refused = promote(worse)
    assert refused.exit_code == 2
    text = " ".join(refused.output.split())
    assert "0.4000 against 0.3000" in text
    assert shown(worse)["status"] == "candidate"


def test_show_panel_and_unknown_version(runtime: object) -> None:
    kind = f"k{unique_tag().lower()}"
    first, _ = register_pair(kind)
    panel = runner.invoke(app, ["models", "show", first])
    assert panel.exit_code == 0, panel.output
    assert "seasonal_naive" in panel.output and "2026-06-28" in panel.output
    missing = runner.invoke(app, ["models", "show", "no-such-model"])
    assert missing.exit_code == 2
    assert "no-such-model is not registered" in missing.output


def test_register_from_a_backtest_file(runtime: object, tmp_path: Path) -> None:
    metrics = tmp_path / "metrics.json"
    metrics.write_text(json.dumps(backtest_document(0.35, cutoff=96, horizon=12)))
    data = tmp_path / "sales.csv"
    data.write_text("item,week,units\n1,1,5\n")
    version = f"demand-{unique_tag().lower()}"
    result = runner.invoke(
        app,
        ["models", "register", "--metrics", str(metrics), "--version", version,
         "--data", str(data), "--kind", f"k{unique_tag().lower()}",
         "--features", "lag_1, price_ratio", "--by", "dana"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "wape_promo 0.3500" in result.output
    stored = shown(version)
    assert stored["data_hash"] == hashlib.sha256(data.read_bytes()).hexdigest()
    assert (stored["backtest_cutoff"], stored["backtest_horizon"]) == ("96", 12)
    assert (stored["training_start"], stored["training_end"]) == ("2024-07-07", "96")
    assert stored["features"] == ["lag_1", "price_ratio"]

    again = runner.invoke(
        app,
        ["models", "register", "--metrics", str(metrics), "--version", version,
         "--data-hash", DATA_HASH, "--data", str(data)],
    )  # fmt: skip
    assert again.exit_code == 2
    assert "either --data-hash or --data" in again.output
