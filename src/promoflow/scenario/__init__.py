"""The seeded retailer and the demo's storyline."""
