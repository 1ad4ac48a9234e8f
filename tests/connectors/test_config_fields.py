"""Connection settings are read strictly, from the API's JSON and the CLI's --set text alike.

No 'yes' for true, no '1.5' for a whole number, no NaN, infinity or 1e308 for a
number, and every number of the shipped connectors within a range an operator
would recognise: each refusal names the field and the value.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from promoflow.connectors.framework import (
    Capability,
    ConfigField,
    ConnectorConfig,
    Manifest,
    connector_class,
)
from promoflow.kit.errors import InvalidInput

MANIFEST = Manifest(
    slug="fields",
    name="fields",
    kind="erp",
    protocol="test",
    capabilities=(Capability.INVENTORY,),
    config=(
        ConfigField("pages", "integer", required=False, default=1, minimum=0, maximum=1000),
        ConfigField("timeout", "number", required=False, default=30.0),
        ConfigField("verify", "boolean", required=False, default=True),
    ),
)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("pages", "1.5"),
        ("pages", "1e3"),
        ("pages", 2.5),
        ("pages", True),
        ("pages", "12 pages"),
        ("timeout", "nan"),
        ("timeout", "inf"),
        ("timeout", float("nan")),
        ("timeout", 1e308),
        ("timeout", "-1e10"),
        ("timeout", False),
        ("verify", "yes"),
        ("verify", "1"),
        ("verify", 1),
    ],
)
def test_lax_values_are_refused_naming_field_and_value(field: str, value: Any) -> None:
    with pytest.raises(InvalidInput) as refused:
        ConnectorConfig(MANIFEST, {field: value})
    assert refused.value.field == f"config.{field}"
    assert refused.value.value is value or refused.value.value == value


@pytest.mark.parametrize(
    ("field", "value", "read"),
    [
        ("pages", " 12 ", 12),
        ("pages", 12.0, 12),
        ("timeout", "30", 30.0),
        ("timeout", 2.5, 2.5),
        ("verify", "FALSE", False),
        ("verify", True, True),
    ],
)
def test_plain_values_are_read_in_their_type(field: str, value: Any, read: Any) -> None:
    config = ConnectorConfig(MANIFEST, {field: value})
    assert config.get(field) == read
    assert type(config.get(field)) is type(read)


@pytest.mark.parametrize(
    ("slug", "field", "value"),
    [
        ("sap-s4hana", "timeout_seconds", 0),
        ("sap-s4hana", "timeout_seconds", 601),
        ("sap-s4hana", "page_size", 100_000),
        ("dynamics-bc", "timeout_seconds", 1e9),
        ("commercetools", "fraction_digits", 5),
        ("flatfile", "page_size", 0),
    ],
)
def test_shipped_connectors_bound_their_numbers(slug: str, field: str, value: Any) -> None:
    item = connector_class(slug).manifest.field(field)
    assert item.minimum is not None and item.maximum is not None
    with pytest.raises(InvalidInput) as refused:
        # The shipped field alone, so no other required setting answers first.
        ConnectorConfig(replace(MANIFEST, config=(item,)), {field: value})
    assert refused.value.field == f"config.{field}"
