"""Fast bulk writes of Polars frames: COPY on PostgreSQL, raw executemany on SQLite.

The generator writes millions of rows; per-row ORM objects or SQLAlchemy's
per-parameter processing would dominate the demo's start-up time, so frames go
to the driver with their columns already in the database's wire format.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from promoflow.scenario import repository

CHUNK_ROWS = 200_000
SQLITE_BULK_CACHE_KIB = 262_144


def write_frame(connection: Connection, table: sa.Table, frame: pl.DataFrame) -> int:
    """Insert every row of `frame` (columns named as in `table`); returns the row count."""
    if frame.is_empty():
        return 0
    unknown = set(frame.columns) - set(table.columns.keys())
    if unknown:
        raise ValueError(f"columns {sorted(unknown)} are not in table {table.name}")
    dialect = connection.dialect.name
    if dialect == "postgresql":
        _copy_postgres(connection, table, frame)
    elif dialect == "sqlite":
        _executemany_sqlite(connection, table, frame)
    else:
        for start in range(0, frame.height, CHUNK_ROWS):
            repository.insert_table_rows(
                connection, table, frame.slice(start, CHUNK_ROWS).to_dicts()
            )
    return frame.height


def _column_list(connection: Connection, frame: pl.DataFrame) -> str:
    quote = connection.dialect.identifier_preparer.quote
    return ", ".join(quote(name) for name in frame.columns)


def _executemany_sqlite(connection: Connection, table: sa.Table, frame: pl.DataFrame) -> None:
    # SQLAlchemy stores SQLite dates and datetimes as ISO text; write the same text.
    frame = frame.with_columns(
        pl.col(pl.Date).dt.strftime("%Y-%m-%d"),
        pl.col(pl.Datetime).dt.replace_time_zone(None).dt.strftime("%Y-%m-%d %H:%M:%S.%6f"),
    )
    placeholders = ", ".join("?" for _ in frame.columns)
    sql = f"INSERT INTO {table.name} ({_column_list(connection, frame)}) VALUES ({placeholders})"
    cursor = _driver_connection(connection).cursor()
    try:
        for start in range(0, frame.height, CHUNK_ROWS):
            cursor.executemany(sql, frame.slice(start, CHUNK_ROWS).rows())
    finally:
        cursor.close()


def _copy_postgres(connection: Connection, table: sa.Table, frame: pl.DataFrame) -> None:
    frame = frame.with_columns(
        pl.col(pl.Datetime).dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%d %H:%M:%S.%6f+00")
    )
    sql = f"COPY {table.name} ({_column_list(connection, frame)}) FROM STDIN WITH (FORMAT csv)"
    with _driver_connection(connection).cursor() as cursor, cursor.copy(sql) as copy:
        for start in range(0, frame.height, CHUNK_ROWS):
            chunk = frame.slice(start, CHUNK_ROWS).write_csv(include_header=False)
            copy.write(chunk.encode())


def _driver_connection(connection: Connection) -> Any:
    return connection.connection.driver_connection


@contextmanager
def bulk_session(connection: Connection, tables: list[str]) -> Iterator[None]:
    """Prepare `connection` for loading `tables` in bulk, and restore it afterwards.

    SQLite gets a bigger page cache for the indexes it is filling. PostgreSQL
    checks foreign keys with a trigger per row (~10 us each); its manual advises
    dropping them for a bulk load and adding them back, which re-checks every row
    in one join. Both happen inside the caller's transaction.
    """
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_BULK_CACHE_KIB}")
        try:
            yield
        finally:
            connection.exec_driver_sql("PRAGMA cache_size=-2000")
        return
    if connection.dialect.name != "postgresql":
        yield
        return
    dropped = _drop_foreign_keys(connection, tables)
    yield
    for table, name, definition in dropped:
        connection.exec_driver_sql(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')


def _drop_foreign_keys(connection: Connection, tables: list[str]) -> list[tuple[str, str, str]]:
    dropped = repository.foreign_keys_of(connection, tables)
    for table, name, _definition in dropped:
        connection.exec_driver_sql(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
    return dropped
