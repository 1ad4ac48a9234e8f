"""Items, locations, suppliers, prices and ranging: the master data."""
