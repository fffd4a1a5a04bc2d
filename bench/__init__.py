"""Doorstep's performance harness at up to a million accounts (README, "Performance").

``python -m bench.generate --scale 10k|100k|1m --seed N`` builds a PostgreSQL database of synthetic
data with COPY; ``python -m bench.run --scale …`` times the pages, the follow-up sweep and an import
against it and writes ``bench/results.json``. ``make bench`` runs both at 10k and 1m.
"""
