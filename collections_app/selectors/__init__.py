"""Reads for the case domain, one module per area; every query is scoped through ``visible_to``."""
