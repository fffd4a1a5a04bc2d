"""Owned by the screening pages."""
