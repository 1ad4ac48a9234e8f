"""Inventory positions, purchase orders and the weekly sales history."""
