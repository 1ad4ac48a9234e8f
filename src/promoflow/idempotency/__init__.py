"""Idempotency keys: a retried create or trigger answers as the first one did, once."""
