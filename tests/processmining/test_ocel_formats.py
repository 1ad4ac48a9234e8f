"""Every OCEL 2.0 format is valid against the published schema and reads back the same."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pm4py  # AGPL: a test-only reader, never imported by promoflow
import pytest
from export_support import Triple, export, promotion_events, relations_of
from lxml import etree
from processmining_support import Run

from promoflow.kit.db import reading
from promoflow.processmining import service
from promoflow.processmining.log import ObjectCentricLog
from promoflow.processmining.ocel_xml import qualified
from promoflow.runtime import get_runtime

READERS = {
    "json": pm4py.read_ocel2_json,
    "sqlite": pm4py.read_ocel2_sqlite,
    "xml": pm4py.read_ocel2_xml,
}


def test_the_json_export_is_valid_against_the_ocel2_json_schema(
    log: ObjectCentricLog, closed_run: Run, specs: Path, tmp_path: Path
) -> None:
    document = json.loads(export("json", tmp_path).read_text())
    schema = json.loads((specs / "schema_ocel2.json").read_text())
    jsonschema.validate(document, schema, format_checker=jsonschema.FormatChecker())
    ids = {event["id"] for event in document["events"]}
    assert promotion_events(log, closed_run.planned.promotion_id) <= ids


def test_the_xml_export_is_valid_against_the_ocel2_xsd(
    log: ObjectCentricLog, closed_run: Run, specs: Path, tmp_path: Path
) -> None:
    schema = etree.XMLSchema(etree.parse(str(specs / "ocel2-validation.xsd")))
    document = etree.parse(str(export("xml", tmp_path)))
    assert schema.validate(document), schema.error_log
    promotion = f"promotion:{closed_run.planned.promotion_id}"
    assert document.xpath(f"/log/objects/object[@id='{promotion}']/@type") == ["promotion"]


@pytest.mark.parametrize("fmt", sorted(READERS))
def test_an_independent_reader_gets_back_the_events_relations_and_status_history(
    fmt: str, log: ObjectCentricLog, closed_run: Run, tmp_path: Path
) -> None:
    read = READERS[fmt](str(export(fmt, tmp_path)))
    promotion_id = closed_run.planned.promotion_id
    ours = promotion_events(log, promotion_id)
    theirs = read.relations[read.relations["ocel:eid"].isin(list(ours))]
    assert _triples(theirs, "ocel:eid", "ocel:oid") == relations_of(log, ours)
    # The other promotion's workflow is still running: compare this promotion's neighbourhood.
    own = {f"promotion:{promotion_id}", f"revision:{promotion_id}.1"}
    o2o = {row for row in _triples(read.o2o, "ocel:oid", "ocel:oid_2") if own & set(row[:2])}
    assert o2o == {(s, t, q) for s, t, q in log.object_relations.rows() if own & {s, t}}
    assert len(o2o) > len(closed_run.planned.skus)
    field = qualified("promotion", "status") if fmt == "xml" else "status"
    assert _status_history(read, f"promotion:{promotion_id}", field)[-1] == "closed"


def _triples(frame: Any, source: str, target: str) -> set[Triple]:
    """(source, target, qualifier) rows of a pm4py relation table."""
    columns = (frame[source], frame[target], frame["ocel:qualifier"])
    return {(str(s), str(t), str(q)) for s, t, q in zip(*columns, strict=True)}


def _status_history(read: object, object_id: str, field: str) -> list[str]:
    """The object's values of `field` in time order: its first value, then each change."""
    objects = read.objects  # type: ignore[attr-defined]
    changes = read.object_changes  # type: ignore[attr-defined]
    first = objects[objects["ocel:oid"] == object_id]
    later = changes[(changes["ocel:oid"] == object_id) & (changes["ocel:field"] == field)]
    values = [v for v in first[field].tolist() if isinstance(v, str)] if field in first else []
    return values + later.sort_values("ocel:timestamp")[field].tolist()


def test_xes_has_one_trace_per_promotion_revision_in_event_order(
    log: ObjectCentricLog, closed_run: Run, tmp_path: Path
) -> None:
    frame = pm4py.read_xes(str(export("xes", tmp_path)))
    trace = frame[frame["case:concept:name"] == f"{closed_run.planned.code} r1"]
    activities = trace["concept:name"].tolist()
    assert activities[0] == "promotion.created"
    assert activities[-1] == "promotion.closed"
    assert list(trace["time:timestamp"]) == sorted(trace["time:timestamp"])
    assert set(trace["event_id"]) == promotion_events(log, closed_run.planned.promotion_id)


def test_a_window_with_no_events_is_still_a_valid_log(
    closed_run: Run, specs: Path, tmp_path: Path
) -> None:
    later = datetime.now(UTC) + timedelta(days=3650)
    target = tmp_path / "empty.jsonocel"
    with reading(get_runtime().sessions) as session:
        summary = service.export_ocel(session, "json", target, since=later)
    document = json.loads(target.read_text())
    jsonschema.validate(document, json.loads((specs / "schema_ocel2.json").read_text()))
    assert (summary.events, document["events"], document["objects"]) == (0, [], [])
