"""Publication of promo prices to channels, and store readiness tasks."""
