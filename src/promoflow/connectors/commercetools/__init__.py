"""commercetools: promotion prices published to the web shop."""
