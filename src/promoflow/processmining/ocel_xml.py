"""OCEL 2.0 XML, valid against the specification's XSD (ocel2-validation.xsd).

The XSD keys every attribute name over all object types (and over all event types),
so a name such as `status`, which several types declare, would be ambiguous: here
each attribute is named `<type>:<name>` (`approval task:status`). Relationships are
`<object object-id=... qualifier=... type=...>` elements, the form the XSD accepts.
Each element is rendered by Polars, a slice of the log at a time, and written at once.
"""

from __future__ import annotations

from typing import IO
from xml.sax.saxutils import quoteattr

import polars as pl

from promoflow.processmining.log import ObjectCentricLog, TypeAttributes
from promoflow.processmining.markup import SLICE, escaped, in_slices, joined, quoted, write_lines


def qualified(type_name: str, attribute: str) -> str:
    """An attribute's name in the XML form: unique across types, as the XSD requires."""
    return f"{type_name}:{attribute}"


def write_xml(log: ObjectCentricLog, out: IO[str]) -> None:
    """Stream the log as one OCEL 2.0 XML document."""
    out.write("<?xml version='1.0' encoding='UTF-8'?>\n<log>\n")
    _types(out, "object", log.object_types)
    _types(out, "event", log.event_types)
    type_of = log.objects.select(pl.col("id").alias("object_id"), pl.col("type").alias("of"))
    _objects(out, log, type_of)
    _events(out, log, type_of)
    out.write("</log>\n")


def _types(out: IO[str], kind: str, declared: TypeAttributes) -> None:
    out.write(f"  <{kind}-types>\n")
    for name, attributes in declared.items():
        out.write(f"    <{kind}-type name={quoteattr(name)}>\n      <attributes>\n")
        for attribute, value_type in attributes:
            label = quoteattr(qualified(name, attribute))
            out.write(f'        <attribute name={label} type="{value_type}"/>\n')
        out.write(f"      </attributes>\n    </{kind}-type>\n")
    out.write(f"  </{kind}-types>\n")


def _attribute(*timed: pl.Expr) -> pl.Expr:
    """`<attribute name="type:name"[ time=...]>value</attribute>` of each attribute row."""
    name = quoted(pl.concat_str([pl.col("of"), pl.lit(":"), pl.col("name")]))
    return pl.concat_str(
        [
            pl.lit("<attribute name="),
            name,
            *timed,
            pl.lit(">"),
            escaped(pl.col("value")),
            pl.lit("</attribute>"),
        ]
    )


def _relationships(
    related: pl.DataFrame, key: str, target: str, type_of: pl.DataFrame
) -> pl.DataFrame:
    """id, related: each element's `<object .../>` relationships run together."""
    typed = related.join(
        type_of, left_on=target, right_on="object_id", how="left", maintain_order="left"
    )
    element = pl.concat_str(
        [
            pl.lit("<object object-id="),
            quoted(pl.col(target)),
            pl.lit(" qualifier="),
            quoted(pl.col("qualifier")),
            pl.lit(" type="),
            quoted(pl.col("of")),
            pl.lit("/>"),
        ]
    )
    return joined(typed, key, element, "related").rename({key: "id"})


def _lines(heads: pl.DataFrame, held: pl.DataFrame, related: pl.DataFrame, tag: str) -> pl.Series:
    """Each row of `heads` (id, head) as one line: its attributes, then its relationships."""
    return (
        heads.join(held, on="id", how="left", maintain_order="left")
        .join(related, on="id", how="left", maintain_order="left")
        .select(
            pl.concat_str(
                [
                    pl.col("head"),
                    pl.lit("<attributes>"),
                    pl.col("held").fill_null(""),
                    pl.lit("</attributes><objects>"),
                    pl.col("related").fill_null(""),
                    pl.lit(f"</objects></{tag}>"),
                ]
            )
        )
        .to_series()
    )


def _objects(out: IO[str], log: ObjectCentricLog, type_of: pl.DataFrame) -> None:
    out.write("  <objects>\n")
    ids = log.objects.get_column("id")
    timed = [pl.lit(' time="'), pl.col("time"), pl.lit('"')]
    for objects, held, related in zip(
        log.objects.iter_slices(SLICE),
        in_slices(ids, log.object_attributes, "object_id"),
        in_slices(ids, log.object_relations, "source_id"),
        strict=True,
    ):
        head = pl.concat_str(
            [
                pl.lit("    <object id="),
                quoted(pl.col("id")),
                pl.lit(" type="),
                quoted(pl.col("type")),
                pl.lit(">"),
            ]
        )
        typed = held.join(type_of, on="object_id", how="left", maintain_order="left")
        attributes = joined(typed, "object_id", _attribute(*timed), "held")
        write_lines(
            out,
            _lines(
                objects.select("id", head.alias("head")),
                attributes.rename({"object_id": "id"}),
                _relationships(related, "source_id", "target_id", type_of),
                "object",
            ),
        )
    out.write("  </objects>\n")


def _events(out: IO[str], log: ObjectCentricLog, type_of: pl.DataFrame) -> None:
    out.write("  <events>\n")
    ids = log.events.get_column("id")
    for events, held, related in zip(
        log.events.iter_slices(SLICE),
        in_slices(ids, log.event_attributes, "event_id"),
        in_slices(ids, log.relations, "event_id"),
        strict=True,
    ):
        head = pl.concat_str(
            [
                pl.lit("    <event id="),
                quoted(pl.col("id")),
                pl.lit(" type="),
                quoted(pl.col("type")),
                pl.lit(' time="'),
                pl.col("time"),
                pl.lit('">'),
            ]
        )
        kinds = events.select(pl.col("id").alias("event_id"), pl.col("type").alias("of"))
        typed = held.join(kinds, on="event_id", how="left", maintain_order="left")
        attributes = joined(typed, "event_id", _attribute(), "held")
        write_lines(
            out,
            _lines(
                events.select("id", head.alias("head")),
                attributes.rename({"event_id": "id"}),
                _relationships(related, "event_id", "object_id", type_of),
                "event",
            ),
        )
    out.write("  </events>\n")
