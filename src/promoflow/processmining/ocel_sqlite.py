"""OCEL 2.0 SQLite: event/object tables, one table per type, event_object, object_object.

Each table's rows are shaped by Polars over whole columns (a wide row per event of a type,
an object's first values then one row per change) and inserted a slice at a time, in key
order.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import polars as pl

from promoflow.processmining.log import EPOCH, ObjectCentricLog, iso
from promoflow.processmining.markup import SLICE

_SQL_TYPE = {"integer": "INTEGER", "float": "REAL", "boolean": "BOOLEAN", "time": "TIMESTAMP"}


def table_suffix(type_name: str) -> str:
    """A type's table name part, as the spec maps it: approval.decided -> ApprovalDecided."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^0-9A-Za-z]+", type_name))


def write_sqlite(log: ObjectCentricLog, path: Path) -> None:
    """Write the log as an OCEL 2.0 SQLite database at `path` (emptied first)."""
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
        db.execute("PRAGMA cache_size=-262144")  # 256 MB: the key indexes stay in memory
        db.execute("PRAGMA locking_mode=EXCLUSIVE")
        _core_tables(db)
        _type_maps(db, log)
        # Every table in key order: its key index builds by appending, not by a million
        # random inserts (readers order events by ocel_time, which the type tables hold).
        _insert(db, "event", log.events.select("id", "type").sort("id"))
        _insert(db, "object", log.objects.select("id", "type"))
        _insert(db, "event_object", log.relations.sort(pl.all()), "OR IGNORE")
        _insert(db, "object_object", log.object_relations.sort(pl.all()), "OR IGNORE")
        _event_tables(db, log)
        _object_tables(db, log)
        db.commit()
    finally:
        db.close()


def _insert(db: sqlite3.Connection, table: str, rows: pl.DataFrame, conflict: str = "") -> None:
    """Insert `rows` (in the table's column order), a slice of row tuples at a time."""
    placeholders = ", ".join("?" * rows.width)
    statement = f"INSERT {conflict} INTO {table} VALUES ({placeholders})"
    for part in rows.iter_slices(SLICE):
        db.executemany(statement, part.rows())


def _core_tables(db: sqlite3.Connection) -> None:
    db.executescript(
        """
        CREATE TABLE event_map_type (ocel_type TEXT PRIMARY KEY, ocel_type_map TEXT);
        CREATE TABLE object_map_type (ocel_type TEXT PRIMARY KEY, ocel_type_map TEXT);
        CREATE TABLE event (ocel_id TEXT PRIMARY KEY, ocel_type TEXT
            REFERENCES event_map_type (ocel_type)) WITHOUT ROWID;
        CREATE TABLE object (ocel_id TEXT PRIMARY KEY, ocel_type TEXT
            REFERENCES object_map_type (ocel_type)) WITHOUT ROWID;
        CREATE TABLE event_object (ocel_event_id TEXT REFERENCES event (ocel_id),
            ocel_object_id TEXT REFERENCES object (ocel_id), ocel_qualifier TEXT,
            PRIMARY KEY (ocel_event_id, ocel_object_id, ocel_qualifier)) WITHOUT ROWID;
        CREATE TABLE object_object (ocel_source_id TEXT REFERENCES object (ocel_id),
            ocel_target_id TEXT REFERENCES object (ocel_id), ocel_qualifier TEXT,
            PRIMARY KEY (ocel_source_id, ocel_target_id, ocel_qualifier)) WITHOUT ROWID;
        """
    )


def _type_maps(db: sqlite3.Connection, log: ObjectCentricLog) -> None:
    db.executemany(
        "INSERT INTO event_map_type VALUES (?, ?)",
        [(name, table_suffix(name)) for name in log.event_types],
    )
    db.executemany(
        "INSERT INTO object_map_type VALUES (?, ?)",
        [(name, table_suffix(name)) for name in log.object_types],
    )


def _columns(attributes: list[tuple[str, str]]) -> str:
    return "".join(f', "{name}" {_SQL_TYPE.get(kind, "TEXT")}' for name, kind in attributes)


def _cells(declared: list[tuple[str, str]]) -> list[pl.Expr]:
    """Each declared attribute's column as stored: text, booleans as 1 or 0."""
    return [
        pl.col(name).eq("true").cast(pl.Int8).alias(name) if kind == "boolean" else pl.col(name)
        for name, kind in declared
    ]


def _wide(attributes: pl.DataFrame, key: str, names: list[str], last: bool) -> pl.DataFrame:
    """One row per `key` with a column per declared name (null where it has no value)."""
    known = attributes.filter(pl.col("name").is_in(names))
    if known.is_empty():
        wide = known.select(key)
    else:
        wide = known.pivot(
            on="name", index=key, values="value", aggregate_function="last" if last else "first"
        )
    missing = [pl.lit(None, pl.String).alias(n) for n in names if n not in wide.columns]
    return wide.with_columns(missing)


def _event_tables(db: sqlite3.Connection, log: ObjectCentricLog) -> None:
    kinds = log.events.select(pl.col("id").alias("event_id"), "type")
    typed = log.event_attributes.join(kinds, on="event_id", how="left", maintain_order="left")
    attributes = typed.partition_by("type", as_dict=True, include_key=False)
    for (event_type,), events in log.events.partition_by("type", as_dict=True).items():
        declared = log.event_types[str(event_type)]
        table = f'"event_{table_suffix(str(event_type))}"'
        db.execute(
            f"CREATE TABLE {table} (ocel_id TEXT PRIMARY KEY REFERENCES event (ocel_id), "
            f"ocel_time TIMESTAMP{_columns(declared)}) WITHOUT ROWID"
        )
        names = [name for name, _ in declared]
        held = attributes.get((event_type,), typed.clear().drop("type"))
        # Keyed by the table's own column names: an event attribute may itself be
        # called "id" or "time" (a catalogued member), never "ocel_id" or "ocel_time".
        wide = _wide(held, "event_id", names, last=False).rename({"event_id": "ocel_id"})
        rows = events.select(pl.col("id").alias("ocel_id"), pl.col("time").alias("ocel_time"))
        rows = rows.join(wide, on="ocel_id", how="left", maintain_order="left")
        _insert(db, table, rows.select("ocel_id", "ocel_time", *_cells(declared)).sort("ocel_id"))


def _object_tables(db: sqlite3.Connection, log: ObjectCentricLog) -> None:
    start = iso(EPOCH)
    objects = log.objects.with_row_index("place")
    attributes = log.object_attributes.join(
        objects.select(pl.col("id").alias("object_id"), "type", "place"),
        on="object_id",
        how="inner",
        maintain_order="left",
    ).with_row_index("order")
    for object_type, declared in log.object_types.items():
        table = f'"object_{table_suffix(object_type)}"'
        db.execute(
            f"CREATE TABLE {table} (ocel_id TEXT REFERENCES object (ocel_id), "
            f"ocel_time TIMESTAMP, ocel_changed_field TEXT{_columns(declared)})"
        )
        names = [name for name, _ in declared]
        own = attributes.filter(pl.col("type") == object_type, pl.col("name").is_in(names))
        held = own.filter(pl.col("time") == start)
        # Each object's row of the values it held from the start, then one row per change.
        first = (
            objects.filter(pl.col("type") == object_type)
            .select(pl.col("id").alias("object_id"), "place", pl.lit(0, pl.UInt32).alias("order"))
            .join(_wide(held, "object_id", names, last=True), on="object_id", how="left")
            .with_columns(pl.lit(start).alias("time"), pl.lit(None, pl.String).alias("changed"))
        )
        changes = own.filter(pl.col("time") != start).select(
            "object_id",
            "place",
            (pl.col("order") + 1).alias("order"),
            "time",
            pl.col("name").alias("changed"),
            *(pl.when(pl.col("name") == n).then(pl.col("value")).alias(n) for n in names),
        )
        rows = pl.concat([first, changes], how="diagonal").sort("place", "order")
        _insert(db, table, rows.select("object_id", "time", "changed", *_cells(declared)))
