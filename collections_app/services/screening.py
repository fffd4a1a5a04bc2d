"""Screening: priority scoring, opening cases, assignment and auto-assign."""
