"""The ROI simulation: business as usual against promoflow on the same seeded estate."""
