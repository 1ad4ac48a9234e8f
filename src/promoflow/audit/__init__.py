"""The tamper-evident audit log: every change and every refused attempt, hash-chained."""
