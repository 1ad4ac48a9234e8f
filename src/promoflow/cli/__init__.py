"""The `promoflow` command line (Typer + Rich)."""
