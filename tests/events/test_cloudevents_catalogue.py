"""CloudEvents 1.0 validity, the event catalogue and the AsyncAPI 3.0 document."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from jsonschema import Draft7Validator
from typer.testing import CliRunner

from promoflow.cli.main import app
from promoflow.events import cloudevents
from promoflow.events.asyncapi import document
from promoflow.events.catalogue import CATALOGUE, by_type, validate_data
from promoflow.kit.errors import InvalidInput

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "tests" / "fixtures" / "specs" / "events"


def _asyncapi_validator() -> Draft7Validator:
    return Draft7Validator(json.loads((SPECS / "asyncapi-3.0.0.schema.json").read_text()))


def _event(**overrides: object) -> dict[str, object]:
    event: dict[str, object] = {
        "specversion": "1.0",
        "id": "0b8f0c52-5a7e-4f57-9d0c-2f5a3a4c1d10",
        "source": "urn:promoflow",
        "type": "io.promoflow.purchase_order.acknowledged",
        "subject": "purchase_order/PO-1",
        "time": "2026-03-02T09:30:00+00:00",
        "datacontenttype": "application/json",
        "data": {"number": "PO-1", "status": "acknowledged", "promotion_id": 4},
    }
    event.update(overrides)
    return event


def test_the_packaged_schema_is_the_published_one() -> None:
    packaged = ROOT / "src" / "promoflow" / "events" / "wire" / "cloudevents.schema.json"
    assert packaged.read_bytes() == (SPECS / "cloudevents.schema.json").read_bytes()


def test_a_valid_event_round_trips_through_the_json_format() -> None:
    event = _event()
    assert cloudevents.decode(cloudevents.encode(event)) == event


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"id": ""}, "id"),
        ({"specversion": "0.3"}, "specversion"),
        ({"time": "2026-03-02 09:30"}, "time"),
        ({"type": 7}, "type"),
    ],
)
def test_an_invalid_event_is_refused_naming_the_attribute(
    change: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        cloudevents.validate(_event(**change))
    assert refused.value.field == field
    assert refused.value.value == change[field]


def test_a_missing_attribute_is_named() -> None:
    event = _event()
    del event["source"]
    with pytest.raises(InvalidInput, match="source") as refused:
        cloudevents.validate(event)
    assert refused.value.field == "source"


def test_bytes_that_are_not_json_are_refused() -> None:
    with pytest.raises(InvalidInput, match="not JSON"):
        cloudevents.decode(b"<xml/>")


def test_event_data_is_checked_against_its_catalogue_entry() -> None:
    validate_data("io.promoflow.purchase_order.acknowledged", _event()["data"])
    with pytest.raises(InvalidInput) as refused:
        validate_data("io.promoflow.purchase_order.acknowledged", {"number": "PO-1"})
    assert refused.value.field == "data"
    with pytest.raises(InvalidInput, match="not in the event catalogue"):
        validate_data("io.promoflow.nothing.happened", {})


def test_every_event_type_the_code_records_is_catalogued() -> None:
    """Literal types must be listed; f-string types must match at least one entry."""
    call = re.compile(r'record_event\(\s*session,\s*(f?)"([^"]+)"', re.S)
    found = 0
    for path in (ROOT / "src" / "promoflow").rglob("*.py"):
        for is_template, name in call.findall(path.read_text()):
            found += 1
            if is_template:
                pattern = re.compile(
                    "^io\\.promoflow\\."
                    + re.sub(r"\\\{[^}]*\\\}", "[a-z_]+", re.escape(name))
                    + "$"
                )
                assert any(pattern.match(t) for t in by_type()), f"{path}: {name}"
            else:
                assert "io.promoflow." + name in by_type(), f"{path}: {name} is not catalogued"
    assert found > 30


def test_the_asyncapi_document_validates_against_the_published_schema() -> None:
    spec = document()
    errors = [e.message for e in _asyncapi_validator().iter_errors(spec)]
    assert errors == []
    assert len(spec["channels"]) == len(CATALOGUE)
    channel = spec["channels"]["inventory_positions_changed"]
    assert channel["address"] == "promoflow.events.inventory.positions.changed"
    message = spec["components"]["messages"]["inventory_positions_changed"]
    assert message["payload"]["properties"]["type"]["const"] == (
        "io.promoflow.inventory.positions.changed"
    )
    assert message["payload"]["properties"]["data"]["required"] == [
        "count",
        "item_ids",
        "location_ids",
        "source",
    ]


def test_the_schema_check_would_catch_a_broken_document() -> None:
    spec = document()
    spec["operations"]["send_promotion_live"]["action"] = "emit"
    assert list(_asyncapi_validator().iter_errors(spec))


def test_the_cli_writes_the_asyncapi_document(tmp_path: Path) -> None:
    target = tmp_path / "docs" / "asyncapi.json"
    result = CliRunner().invoke(app, ["events", "asyncapi", "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert f"{len(CATALOGUE)} event types written" in result.output
    written = json.loads(target.read_text())
    assert written == document()
    assert list(_asyncapi_validator().iter_errors(written)) == []
