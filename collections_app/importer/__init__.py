"""Import delinquent accounts from a core-banking export (CSV or XLSX).

parse (``reader``) → validate each row (``rows``) → upsert in chunks (``upsert``) → report (``report``).
The entry points are in ``services``: ``import_job_create`` (upload page), ``import_job_run``
(Celery task and command) and ``import_file`` (the ``import_accounts`` command).
"""
