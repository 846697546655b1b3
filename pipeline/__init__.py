"""Dailies: local-first video analysis for film and TV editorial."""

__version__ = "0.1.0"
