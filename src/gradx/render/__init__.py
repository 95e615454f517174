"""Rendering: turns the core's frozen dataclasses into tables, JSON, CSV and plots. Never computes."""
