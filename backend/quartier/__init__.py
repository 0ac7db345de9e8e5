"""Quartier: participation in municipal social planning."""

__version__ = "0.1.0"
