"""Executors: the serve and worker processes on PostgreSQL (see `executors.service`).

Re-exports what `runtime` and `schema` import from the former `executors` module.
"""

from __future__ import annotations

from promoflow.executors.models import Executor
from promoflow.executors.repository import LOCK_NAMESPACE
from promoflow.executors.schemas import Recover
from promoflow.executors.service import ExecutorIdInUse, ExecutorPresence

__all__ = ["LOCK_NAMESPACE", "Executor", "ExecutorIdInUse", "ExecutorPresence", "Recover"]
