"""Signals of the importer, for the layers above the case core (the dashboard refreshes its tallies)."""

from django.dispatch import Signal

# Sent by the worker after an import job ran to its end (finished or failed); kwargs: job_id.
import_finished = Signal()
