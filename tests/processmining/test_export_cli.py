"""`promoflow export ocel|xes` as an operator runs it: a real process on a real database."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import pytest
from lxml import etree
from processmining_support import Run

from process_support import PROMOFLOW, process_env, run_cli


@pytest.fixture
def env(db_url: str, closed_run: Run, tmp_path: Path) -> dict[str, str]:
    return {**process_env(db_url, tmp_path / "data"), "COLUMNS": "250"}


def _refused(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(
        [PROMOFLOW, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 2, f"promoflow {' '.join(args)} exited {done.returncode}:\n{output}"
    assert "Traceback" not in output
    return output


def test_ocel_json_from_the_command_line_holds_the_promotion_and_its_events(
    env: dict[str, str], closed_run: Run, tmp_path: Path
) -> None:
    target = tmp_path / "promotions.jsonocel"
    said = run_cli(["export", "ocel", "--format", "json", "--output", str(target)], env)
    document = json.loads(target.read_text())
    promotion = f"promotion:{closed_run.planned.promotion_id}"
    mine = [
        event["type"]
        for event in document["events"]
        if any(r["objectId"] == promotion for r in event["relationships"])
    ]
    assert mine[0] == "promotion.created" and mine[-1] == "promotion.closed"
    assert f"{len(document['events']):,} events" in said
    assert list(tmp_path.iterdir()) == [target]  # no temporary file left beside it


def test_ocel_sqlite_and_xml_and_xes_from_the_command_line(
    env: dict[str, str], closed_run: Run, tmp_path: Path
) -> None:
    database = tmp_path / "log.sqlite"
    run_cli(["export", "ocel", "-f", "sqlite", "-o", str(database)], env)
    with sqlite3.connect(database) as db:
        kinds = {kind for (kind,) in db.execute("SELECT ocel_type FROM object_map_type")}
        promotions = db.execute("SELECT count(*) FROM object_Promotion").fetchone()[0]
    assert {"promotion", "revision", "item", "approval task", "publication"} <= kinds
    assert promotions >= 1
    xml = tmp_path / "log.xmlocel"
    run_cli(["export", "ocel", "--format", "xml", "--output", str(xml)], env)
    assert etree.parse(str(xml)).getroot().tag == "log"
    xes = tmp_path / "log.xes"
    said = run_cli(["export", "xes", "--output", str(xes)], env)
    assert f"{closed_run.planned.code} r1" in xes.read_text()
    assert "promotion revisions" in said


def test_an_unknown_format_is_refused_naming_the_flag_and_nothing_is_written(
    env: dict[str, str], tmp_path: Path
) -> None:
    target = tmp_path / "log.csv"
    said = _refused(["export", "ocel", "--format", "csv", "--output", str(target)], env)
    assert "format='csv'" in said and "json, sqlite, xml" in said
    assert list(tmp_path.iterdir()) == []


def test_a_bad_date_is_refused_naming_the_flag(env: dict[str, str], tmp_path: Path) -> None:
    target = tmp_path / "log.xes"
    said = _refused(["export", "xes", "--since", "last tuesday", "--output", str(target)], env)
    assert "since='last tuesday'" in said
    said = _refused(
        ["export", "xes", "--since", "2026-12-02", "--until", "2026-12-01", "-o", str(target)], env
    )
    assert "until=" in said and "after --since" in said
    assert list(tmp_path.iterdir()) == []


def test_an_output_in_a_missing_folder_is_refused(env: dict[str, str], tmp_path: Path) -> None:
    target = tmp_path / "nowhere" / "log.jsonocel"
    said = _refused(["export", "ocel", "--output", str(target)], env)
    assert f"output='{target}'" in said and "does not exist" in said
    assert not target.parent.exists()
