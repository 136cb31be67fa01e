"""Alerts: one alert per asset-check or freshness transition, to the log and a webhook."""
