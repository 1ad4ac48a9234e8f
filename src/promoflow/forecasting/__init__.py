"""Demand forecasting behind the `DemandForecaster` interface."""
