"""Process-mining exports of the event log: OCEL 2.0 (JSON, SQLite, XML) and XES."""
