"""`promoflow simulate roi` run as a real process, the way the README's figures are made."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from process_support import PROMOFLOW, process_env, run_cli
from promoflow.simulation.arm import METRICS
from promoflow.simulation.assumptions import ASSUMPTIONS

pytestmark = pytest.mark.slow


def _env(tmp_path: Path) -> dict[str, str]:
    return process_env(f"sqlite:///{tmp_path / 'unused.db'}", tmp_path)


def test_the_table_shows_both_arms_and_an_interval_per_metric(tmp_path: Path) -> None:
    output = run_cli(
        ["simulate", "roi", "--seeds", "2", "--promotions", "2", "--no-sensitivity"],
        _env(tmp_path),
    )
    assert "2 seeds (1–2) x 2 promotions" in output
    for header in ("BAU", "promoflow", "difference", "95 % CI"):
        assert header in output
    for label in METRICS.values():
        row = next(line for line in output.splitlines() if line.strip().startswith(label))
        assert "…" in row, f"{label} has no interval: {row}"
    assert "What drives it" not in output


def test_json_carries_intervals_assumptions_and_drivers(tmp_path: Path) -> None:
    output = run_cli(
        ["simulate", "roi", "--seeds", "2", "--promotions", "2", "--seed", "5", "--json"],
        _env(tmp_path),
    )
    report = json.loads(output)
    assert report["seeds"] == [5, 6]
    assert [c["metric"] for c in report["comparisons"]] == list(METRICS)
    for c in report["comparisons"]:
        assert c["ci_low"] <= c["difference"] <= c["ci_high"]
    assert [a["name"] for a in report["assumptions"]] == [a.name for a in ASSUMPTIONS]
    assert {s["assumption"] for s in report["sensitivity"]} == {a.name for a in ASSUMPTIONS}
    assert report["drivers"]["cycle_time_days"].startswith("approval")


@pytest.mark.parametrize(
    ("flag", "value"), [("--seeds", "1"), ("--promotions", "-2"), ("--seed", "-1")]
)
def test_a_bad_flag_exits_2_naming_it(tmp_path: Path, flag: str, value: str) -> None:
    done = subprocess.run(
        [PROMOFLOW, "simulate", "roi", flag, value],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"{flag.removeprefix('--')}={value}" in done.stderr
    assert "seed 1/" not in done.stderr  # refused before any seed ran


def test_set_reaches_the_run_and_an_unknown_name_exits_2(tmp_path: Path) -> None:
    output = run_cli(
        [
            "simulate", "roi", "--seeds", "2", "--promotions", "1", "--no-sensitivity", "--json",
            "--set", "gate_expedite_share=0", "--set", "late_price_store_share=0.05",
        ],
        _env(tmp_path),
    )  # fmt: skip
    report = json.loads(output)
    assert report["settings"]["gate_expedite_share"] == 0.0
    late = next(a for a in report["assumptions"] if a["name"] == "late_price_store_share")
    assert late["business_as_usual"] == 0.05
    done = subprocess.run(
        [PROMOFLOW, "simulate", "roi", "--set", "shelf_magic=1"],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert "shelf_magic='1': is not a setting or an assumption" in done.stderr
