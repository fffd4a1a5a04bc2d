"""Owned by the cases pages."""
