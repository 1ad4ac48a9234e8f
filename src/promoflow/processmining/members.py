"""Event data members as OCEL text, decoded by Polars a whole activity at a time.

Scalar members come from one JSON decode per activity (text stays text, integers and
booleans read as JSON writes them). Members that hold lists, objects or decimals are
matched by path on the events that name them, and each distinct value is rendered as
`vocabulary.attribute_text` renders it (compact JSON with sorted keys, Python floats),
so a million events are parsed in seconds and read as one `json.loads` would read them.
"""

from __future__ import annotations

import json
from typing import Any

import polars as pl

from promoflow.processmining import vocabulary as v
from promoflow.processmining.log import TypeAttributes
from promoflow.processmining.relations import LISTS, MEMBERS

_LISTED = tuple(name for name, *_ in LISTS)
_ATTRIBUTE_SCHEMA = {
    "n": pl.UInt32,
    "k": pl.Int32,
    "event_id": pl.String,
    "name": pl.String,
    "value": pl.String,
}
_LISTED_SCHEMA = {
    "n": pl.UInt32,
    "rank": pl.Int32,
    "event_id": pl.String,
    "object_id": pl.String,
    "qualifier": pl.String,
}


def decode(
    raw: pl.DataFrame, event_types: TypeAttributes, lookups: dict[str, dict[str, int]]
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The m_<member> columns (in row order), the event attributes and listed E2O rows.

    `raw` holds n (row number), event_id, activity, actor and data (JSON text).
    Attributes are (event_id, name, value) in event order, who acted first; listed
    rows are (n, rank, event_id, object_id, qualifier) for the objects a member lists.
    """
    precise_kinds = v.structured_members()
    members = [pl.DataFrame(schema={"n": pl.UInt32} | {f"m_{name}": pl.String for name in MEMBERS})]
    attributes = [pl.DataFrame(schema=_ATTRIBUTE_SCHEMA)]
    listed = [pl.DataFrame(schema=_LISTED_SCHEMA)]
    columns = ["n", "event_id", "activity", "actor", "data"]
    # Taken one by one, so each activity's JSON text is freed once decoded.
    groups = raw.select(columns).partition_by("activity", as_dict=True)
    while groups:
        (activity,), rows = groups.popitem()
        declared = event_types[str(activity)][1:]
        names = list(dict.fromkeys([name for name, _ in declared] + [*MEMBERS, *_LISTED]))
        precise = precise_kinds.get(str(activity), set()) | set(_LISTED)
        precise |= {name for name, kind in declared if kind == v.F}
        texts = _texts(rows.get_column("data"), names, precise)
        members.append(
            rows.select("n").with_columns(
                texts.get_column(name).alias(f"m_{name}") for name in MEMBERS
            )
        )
        attributes.append(_attributes(rows, texts, [name for name, _ in declared]))
        listed.append(_listed(rows, texts, lookups))
    decoded = pl.concat(members, how="diagonal").sort("n")
    event_attributes = pl.concat(attributes).sort("n", "k").select("event_id", "name", "value")
    return decoded, event_attributes, pl.concat(listed).unique(maintain_order=True)


def _texts(data: pl.Series, names: list[str], precise: set[str]) -> pl.DataFrame:
    """A text column per member name, aligned with `data`."""
    plain = [name for name in names if name not in precise]
    columns: dict[str, pl.Series] = {}
    if plain:
        try:
            decoded = data.str.json_decode(pl.Struct({name: pl.String for name in plain}))
            columns = {name: decoded.struct.field(name) for name in plain}
        except pl.exceptions.ComputeError:
            # A member of another shape than the catalogue says: each read by path instead.
            pass
    for name in names:
        if name not in columns:
            columns[name] = _matched(data, name)
    return pl.DataFrame([columns[name].alias(name) for name in names])


def _matched(data: pl.Series, name: str) -> pl.Series:
    """The member's text where the event has it, rendered as attribute_text renders it."""
    frame = data.to_frame("data").with_row_index("i")
    found = frame.filter(pl.col("data").str.contains(json.dumps(name), literal=True)).select(
        "i", pl.col("data").str.json_path_match(f"$['{name}']").alias("text")
    )
    texts = pl.Series(name, [None] * len(data), dtype=pl.String)
    if found.height:
        texts = texts.scatter(found.get_column("i"), found.get_column("text"))
    distinct = texts.drop_nulls().unique().to_list()
    renamed = {text: _python_text(text) for text in distinct}
    changed = {text: new for text, new in renamed.items() if new != text}
    if changed:
        texts = texts.replace(list(changed), list(changed.values()))
    return texts


def _python_text(text: str) -> str:
    """A matched member's text as `vocabulary.attribute_text` gives its JSON value."""
    try:
        value: Any = json.loads(text)
    except ValueError:
        return text  # a JSON string, which the match hands back unquoted
    if isinstance(value, str):
        return text
    return v.attribute_text(value) or text


def _attributes(rows: pl.DataFrame, texts: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    """(n, k, event_id, name, value): who acted (k 0), then each declared member present."""
    frames = [
        rows.select(
            "n",
            pl.lit(0, pl.Int32).alias("k"),
            "event_id",
            pl.lit("actor").alias("name"),
            pl.col("actor").alias("value"),
        )
    ]
    for k, name in enumerate(names, start=1):
        frames.append(
            rows.select("n", pl.lit(k, pl.Int32).alias("k"), "event_id", pl.lit(name).alias("name"))
            .with_columns(texts.get_column(name).alias("value"))
            .drop_nulls("value")
        )
    return pl.concat(frames)


def _listed(
    rows: pl.DataFrame, texts: pl.DataFrame, lookups: dict[str, dict[str, int]]
) -> pl.DataFrame:
    """E2O rows for the purchase orders, items and locations an event's members list."""
    frames = []
    for rank, (name, prefix, qualifier, lookup) in enumerate(LISTS, start=10):
        present = rows.select("n", "event_id").with_columns(texts.get_column(name).alias("text"))
        present = present.drop_nulls("text")
        if present.is_empty():
            continue
        codes = lookups[lookup] if lookup else None
        distinct = present.get_column("text").unique().to_list()
        ids = pl.DataFrame(
            {
                "text": distinct,
                "object_id": [_object_ids(text, prefix, codes) for text in distinct],
            },
            schema={"text": pl.String, "object_id": pl.List(pl.String)},
        )
        frames.append(
            present.join(ids, on="text", how="left", maintain_order="left")
            .explode("object_id")
            .drop_nulls("object_id")
            .select(
                "n",
                pl.lit(rank, pl.Int32).alias("rank"),
                "event_id",
                "object_id",
                pl.lit(qualifier).alias("qualifier"),
            )
        )
    return pl.concat(frames) if frames else pl.DataFrame(schema=_LISTED_SCHEMA)


def _object_ids(text: str, prefix: str, codes: dict[str, int] | None) -> list[str]:
    """The object ids a listing member names (codes looked up; other values skipped)."""
    try:
        listed = json.loads(text)
    except ValueError:
        return []
    found = []
    for value in listed if isinstance(listed, list) else ():
        looked_up = codes.get(value) if codes is not None and isinstance(value, str) else None
        key = value if codes is None else looked_up
        if isinstance(key, int | str):
            found.append(f"{prefix}{key}")
    return found
