"""Execution variance: a launched promotion measured against its plan."""
