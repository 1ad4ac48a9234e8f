"""`promoflow report promotion REF` as a real process: three files, one set of figures."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from postevent_support import History

from process_support import PROMOFLOW, process_env, run_cli
from promoflow.kit.db import reading
from promoflow.postevent import service
from promoflow.postevent.figures import rows

FIGURE = re.compile(r"data-figure='([^']+)'>([^<]*)<")


def _code(history: History) -> str:
    with reading(history.sessions) as session:
        return service.event_codes(session)[0]


def test_the_report_writes_html_pdf_and_json_with_the_same_figures(
    history: History, tmp_path: Path
) -> None:
    code = _code(history)
    folder = tmp_path / "reports"
    env = process_env(history.url, tmp_path / "data")
    output = run_cli(["report", "promotion", code, "--output", str(folder)], env, timeout=300)

    assert sorted(p.name for p in folder.iterdir()) == sorted(
        f"{code}.{suffix}" for suffix in ("html", "json", "pdf")
    )
    report = json.loads((folder / f"{code}.json").read_text())
    page = (folder / f"{code}.html").read_text()
    on_page = dict(FIGURE.findall(page))
    expected = rows(report)
    assert len(expected) > 20
    for path, label, shown, _ in expected:
        assert on_page[path] == shown, f"{label}: HTML {on_page[path]!r}, JSON {shown!r}"
    assert on_page["units.incremental"].replace(",", "") == f"{report['units']['incremental']:.2f}"
    assert on_page["reconciliation.status"] == report["reconciliation"]["status"]
    assert "<svg" in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert (folder / f"{code}.pdf").read_bytes().startswith(b"%PDF-")
    assert f"{report['units']['incremental']:,.1f} incremental units" in output


def test_only_the_formats_asked_for_are_written(history: History, tmp_path: Path) -> None:
    code = _code(history)
    folder = tmp_path / "only-json"
    env = process_env(history.url, tmp_path / "data")
    run_cli(["report", "promotion", code, "--output", str(folder), "--format", "json"], env)
    assert [p.name for p in folder.iterdir()] == [f"{code}.json"]


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["NO-SUCH-PROMO"], "NO-SUCH-PROMO"),
        (["{code}", "--format", "html,docx"], "--format='html,docx'"),
    ],
)
def test_bad_input_exits_2_naming_it_and_writes_nothing(
    history: History, tmp_path: Path, args: list[str], named: str
) -> None:
    folder = tmp_path / "reports"
    arguments = [a.replace("{code}", _code(history)) for a in args]
    done = subprocess.run(
        [PROMOFLOW, "report", "promotion", *arguments, "--output", str(folder)],
        env=process_env(history.url, tmp_path / "data"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert named in done.stderr.replace("\n", "")
    assert not folder.exists()
