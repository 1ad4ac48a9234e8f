"""OCEL 2.0 SQLite: event/object tables, one table per type, event_object, object_object."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import polars as pl

from promoflow.processmining.log import EPOCH, ObjectCentricLog, aligned, iso

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
        _core_tables(db)
        _type_maps(db, log)
        db.executemany("INSERT INTO event VALUES (?, ?)", log.events.select("id", "type").rows())
        db.executemany("INSERT INTO object VALUES (?, ?)", log.objects.rows())
        db.executemany("INSERT OR IGNORE INTO event_object VALUES (?, ?, ?)", log.relations.rows())
        db.executemany(
            "INSERT OR IGNORE INTO object_object VALUES (?, ?, ?)", log.object_relations.rows()
        )
        _event_tables(db, log)
        _object_tables(db, log)
        db.commit()
    finally:
        db.close()


def _core_tables(db: sqlite3.Connection) -> None:
    db.executescript(
        """
        CREATE TABLE event_map_type (ocel_type TEXT PRIMARY KEY, ocel_type_map TEXT);
        CREATE TABLE object_map_type (ocel_type TEXT PRIMARY KEY, ocel_type_map TEXT);
        CREATE TABLE event (ocel_id TEXT PRIMARY KEY, ocel_type TEXT
            REFERENCES event_map_type (ocel_type));
        CREATE TABLE object (ocel_id TEXT PRIMARY KEY, ocel_type TEXT
            REFERENCES object_map_type (ocel_type));
        CREATE TABLE event_object (ocel_event_id TEXT REFERENCES event (ocel_id),
            ocel_object_id TEXT REFERENCES object (ocel_id), ocel_qualifier TEXT,
            PRIMARY KEY (ocel_event_id, ocel_object_id, ocel_qualifier));
        CREATE TABLE object_object (ocel_source_id TEXT REFERENCES object (ocel_id),
            ocel_target_id TEXT REFERENCES object (ocel_id), ocel_qualifier TEXT,
            PRIMARY KEY (ocel_source_id, ocel_target_id, ocel_qualifier));
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


def _cell(value: str | None, kind: str) -> str | int | None:
    if kind == "boolean" and value is not None:
        return int(value == "true")
    return value


def _event_tables(db: sqlite3.Connection, log: ObjectCentricLog) -> None:
    by_type = log.events.partition_by("type", as_dict=True)
    for (event_type,), events in by_type.items():
        declared = log.event_types[str(event_type)]
        table = f'"event_{table_suffix(str(event_type))}"'
        db.execute(
            f"CREATE TABLE {table} (ocel_id TEXT PRIMARY KEY REFERENCES event (ocel_id), "
            f"ocel_time TIMESTAMP{_columns(declared)})"
        )
        names = [name for name, _ in declared]
        wide = (
            log.event_attributes.join(events.select(pl.col("id").alias("event_id")), on="event_id")
            .pivot(on="name", index="event_id", values="value", aggregate_function="first")
            .rename({"event_id": "id"})
        )
        wide = events.select("id", "time").join(wide, on="id", how="left")
        missing = [pl.lit(None, pl.String).alias(n) for n in names if n not in wide.columns]
        rows = wide.with_columns(missing).select("id", "time", *names).rows()
        kinds = [kind for _, kind in declared]
        placeholders = ", ".join("?" * (2 + len(names)))
        db.executemany(
            f"INSERT INTO {table} VALUES ({placeholders})",
            [
                (*row[:2], *(_cell(v, k) for v, k in zip(row[2:], kinds, strict=True)))
                for row in rows
            ],
        )


def _object_tables(db: sqlite3.Connection, log: ObjectCentricLog) -> None:
    start = iso(EPOCH)
    for object_type, declared in log.object_types.items():
        table = f'"object_{table_suffix(object_type)}"'
        db.execute(
            f"CREATE TABLE {table} (ocel_id TEXT REFERENCES object (ocel_id), "
            f"ocel_time TIMESTAMP, ocel_changed_field TEXT{_columns(declared)})"
        )
        position = {name: index for index, (name, _) in enumerate(declared)}
        kinds = [kind for _, kind in declared]
        objects = log.objects.filter(pl.col("type") == object_type)
        ids = objects.get_column("id").to_list()
        rows: list[tuple[object, ...]] = []
        own = log.object_attributes.join(
            objects.select(pl.col("id").alias("object_id")), on="object_id", how="semi"
        )
        history = aligned(ids, own, "object_id", ["name", "value", "time"])
        for object_id, held in zip(ids, history, strict=True):
            first: list[str | int | None] = [None] * len(declared)
            changes: list[tuple[object, ...]] = []
            for name, value, time in held:
                if name not in position:
                    continue
                if time == start:
                    first[position[name]] = _cell(value, kinds[position[name]])
                    continue
                change: list[str | int | None] = [None] * len(declared)
                change[position[name]] = _cell(value, kinds[position[name]])
                changes.append((object_id, time, name, *change))
            rows.append((object_id, start, None, *first))
            rows.extend(changes)
        placeholders = ", ".join("?" * (3 + len(declared)))
        db.executemany(f"INSERT INTO {table} VALUES ({placeholders})", rows)
