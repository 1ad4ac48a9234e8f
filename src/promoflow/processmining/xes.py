"""IEEE 1849 XES: one trace per promotion revision, for case-centric process-mining tools.

Each event's element is rendered by Polars, a slice of the log at a time; the events
are then put in trace order and written a slice at a time.
"""

from __future__ import annotations

from typing import IO

import polars as pl

from promoflow.processmining.log import ObjectCentricLog
from promoflow.processmining.markup import SLICE, in_slices, joined, quoted, write_lines

_HEADER = """<?xml version='1.0' encoding='UTF-8'?>
<log xes.version="1849-2016" xes.features="nested-attributes" xmlns="http://www.xes-standard.org/">
  <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
  <extension name="Time" prefix="time" uri="http://www.xes-standard.org/time.xesext"/>
  <extension name="Organizational" prefix="org" uri="http://www.xes-standard.org/org.xesext"/>
  <extension name="Lifecycle" prefix="lifecycle" uri="http://www.xes-standard.org/lifecycle.xesext"/>
  <global scope="trace">
    <string key="concept:name" value="UNKNOWN"/>
  </global>
  <global scope="event">
    <string key="concept:name" value="UNKNOWN"/>
    <date key="time:timestamp" value="1970-01-01T00:00:00.000Z"/>
    <string key="org:resource" value="system"/>
    <string key="lifecycle:transition" value="complete"/>
  </global>
  <classifier name="Activity" keys="concept:name"/>
  <string key="concept:name" value="promoflow promotion revisions"/>
"""
_XES_TYPE = {"integer": "int", "float": "float", "boolean": "boolean"}
_DECLARED = {"type": pl.String, "name": pl.String, "kind": pl.String}


def _element() -> pl.Expr:
    """`<int key=... value=.../>`: the declared type, or string where the value is not one."""
    value = pl.col("value")
    xes = pl.col("kind").replace_strict(_XES_TYPE, default="string")
    xes = (
        pl.when((xes == "int") & ~value.str.contains(r"^-*\d+$"))
        .then(pl.lit("string"))
        .when((xes == "float") & value.cast(pl.Float64, strict=False).is_null())
        .then(pl.lit("string"))
        .otherwise(xes)
    )
    key = pl.when(pl.col("name") == "actor").then(pl.lit("org:resource")).otherwise("name")
    return pl.concat_str(
        [
            pl.lit("<"),
            xes,
            pl.lit(" key="),
            quoted(key),
            pl.lit(" value="),
            quoted(value),
            pl.lit("/>"),
        ]
    )


def trace_name(revision_key: str, promotion_codes: dict[str, str]) -> str:
    """`SPRING-COLA r2`: the promotion's code (or id) and the revision."""
    promotion, _, revision = revision_key.partition(".")
    return f"{promotion_codes.get(promotion, 'promotion ' + promotion)} r{revision}"


def _event_elements(log: ObjectCentricLog) -> pl.Series:
    """`<event>...</event>` of every event, in log order."""
    declared = pl.DataFrame(
        [(t, name, kind) for t, members in log.event_types.items() for name, kind in members],
        schema=_DECLARED,
        orient="row",
    )
    parts: list[pl.Series] = []
    ids = log.events.get_column("id")
    for events, held in zip(
        log.events.iter_slices(SLICE), in_slices(ids, log.event_attributes, "event_id"), strict=True
    ):
        typed = held.join(
            events.select(pl.col("id").alias("event_id"), "type"),
            on="event_id",
            how="left",
            maintain_order="left",
        ).join(declared, on=["type", "name"], how="left", maintain_order="left")
        attributes = joined(typed, "event_id", _element(), "held").rename({"event_id": "id"})
        element = pl.concat_str(
            [
                pl.lit('    <event><string key="concept:name" value='),
                quoted(pl.col("type")),
                pl.lit('/><date key="time:timestamp" value="'),
                pl.col("time"),
                pl.lit('"/><string key="lifecycle:transition" value="complete"/>'),
                pl.lit('<string key="event_id" value='),
                quoted(pl.col("id")),
                pl.lit("/>"),
                pl.col("held").fill_null(""),
                pl.lit("</event>"),
            ]
        )
        parts.append(
            events.join(attributes, on="id", how="left", maintain_order="left")
            .select(element)
            .to_series()
        )
    return pl.concat(parts) if parts else pl.Series(dtype=pl.String)


def write_xes(log: ObjectCentricLog, out: IO[str]) -> None:
    """Stream the events that belong to a promotion revision as one trace per revision."""
    codes = pl.DataFrame(
        list(log.promotion_codes.items()),
        schema={"promotion": pl.String, "code": pl.String},
        orient="row",
    )
    key = pl.col("revision_key")
    in_cases = (
        log.events.select("revision_key")
        .with_columns(_event_elements(log).alias("element"))
        .with_row_index("position")
        .filter(key.is_not_null())
        .with_columns(pl.col("position").min().over("revision_key").alias("trace_rank"))
        .sort("trace_rank", "position")
        .with_columns(
            key.ne_missing(key.shift(1)).alias("opens"),
            key.ne_missing(key.shift(-1)).alias("closes"),
            key.str.split_exact(".", 1).struct.rename_fields(["promotion", "revision"]),
        )
        .unnest("revision_key")
        .join(codes, on="promotion", how="left", maintain_order="left")
    )
    out.write(_HEADER)
    for cases in in_cases.iter_slices(SLICE):
        write_lines(out, cases.select(_trace_line()).to_series())
    out.write("</log>\n")


def _trace_line() -> pl.Expr:
    """An event's element, opening its trace before its first event, closing after its last."""
    promotion, revision = pl.col("promotion"), pl.col("revision")
    name = pl.concat_str(
        [pl.coalesce("code", pl.lit("promotion ") + promotion), pl.lit(" r"), revision]
    )
    opening = pl.concat_str(
        [
            pl.lit('  <trace><string key="concept:name" value='),
            quoted(name),
            pl.lit('/><int key="promotion_id" value="'),
            promotion,
            pl.lit('"/><int key="revision" value="'),
            revision,
            pl.lit('"/>\n'),
        ]
    )
    return pl.concat_str(
        [
            pl.when("opens").then(opening).otherwise(pl.lit("")),
            pl.col("element"),
            pl.when("closes").then(pl.lit("\n  </trace>")).otherwise(pl.lit("")),
        ]
    )
