"""IEEE 1849 XES: one trace per promotion revision, for case-centric process-mining tools."""

from __future__ import annotations

from typing import IO
from xml.sax.saxutils import quoteattr

import polars as pl

from promoflow.processmining.log import ObjectCentricLog, aligned

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


def _element(kind: str, key: str, value: str) -> str:
    xes = _XES_TYPE.get(kind, "string")
    if xes == "int" and not value.lstrip("-").isdigit():
        xes = "string"
    elif xes == "float":
        try:
            float(value)
        except ValueError:
            xes = "string"
    return f"<{xes} key={quoteattr(key)} value={quoteattr(value)}/>"


def trace_name(revision_key: str, promotion_codes: dict[str, str]) -> str:
    """`SPRING-COLA r2`: the promotion's code (or id) and the revision."""
    promotion, _, revision = revision_key.partition(".")
    return f"{promotion_codes.get(promotion, 'promotion ' + promotion)} r{revision}"


def write_xes(log: ObjectCentricLog, out: IO[str]) -> None:
    """Stream the events that belong to a promotion revision as one trace per revision."""
    in_cases = (
        log.events.with_row_index("position")
        .filter(pl.col("revision_key").is_not_null())
        .with_columns(pl.col("position").min().over("revision_key").alias("trace_rank"))
        .sort("trace_rank", "position")
    )
    attributes = log.event_attributes.join(
        in_cases.select(pl.col("id").alias("event_id"), "trace_rank", "position"), on="event_id"
    ).sort("trace_rank", "position", maintain_order=True)
    kinds = {name: dict(declared) for name, declared in log.event_types.items()}
    ids = in_cases.get_column("id").to_list()
    rows = zip(
        ids,
        in_cases.get_column("type").to_list(),
        in_cases.get_column("time").to_list(),
        in_cases.get_column("revision_key").to_list(),
        aligned(ids, attributes, "event_id", ["name", "value"]),
        strict=True,
    )
    out.write(_HEADER)
    open_trace: str | None = None
    for event_id, activity, time, revision_key, held in rows:
        if revision_key != open_trace:
            if open_trace is not None:
                out.write("  </trace>\n")
            _open_trace(out, revision_key, log.promotion_codes)
            open_trace = revision_key
        declared = kinds[activity]
        out.write("    <event>")
        out.write(f'<string key="concept:name" value={quoteattr(activity)}/>')
        out.write(f'<date key="time:timestamp" value="{time}"/>')
        out.write('<string key="lifecycle:transition" value="complete"/>')
        out.write(f'<string key="event_id" value={quoteattr(event_id)}/>')
        for name, value in held:
            key = "org:resource" if name == "actor" else name
            out.write(_element(declared.get(name, "string"), key, value))
        out.write("</event>\n")
    if open_trace is not None:
        out.write("  </trace>\n")
    out.write("</log>\n")


def _open_trace(out: IO[str], revision_key: str, promotion_codes: dict[str, str]) -> None:
    promotion, _, revision = revision_key.partition(".")
    out.write("  <trace>")
    out.write(
        f'<string key="concept:name" value={quoteattr(trace_name(revision_key, promotion_codes))}/>'
    )
    out.write(
        f'<int key="promotion_id" value="{promotion}"/><int key="revision" value="{revision}"/>'
    )
    out.write("\n")
