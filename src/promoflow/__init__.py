"""promoflow: a control tower for retail promotion execution and inventory alignment."""

__version__ = "0.1.0"
