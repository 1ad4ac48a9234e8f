"""Post-event analysis of a promotion: incremental figures from actuals, and reconciliation."""
