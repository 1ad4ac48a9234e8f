"""Allocation, replenishment and live sell-through of a promotion revision.

The promotion workflow (`lifecycle.workflows`) calls `allocation.workflows`.
"""
