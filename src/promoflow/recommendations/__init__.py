"""Allocation and replenishment recommendations: stored, decided by policy or by people."""
