"""Inventory alignment maths: stockout risk, DC allocation, replenishment, supplier risk."""
