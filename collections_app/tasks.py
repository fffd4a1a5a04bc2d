"""Celery tasks of the case domain. Tasks only call services; they re-read the world themselves."""

from celery import shared_task

from collections_app import chain, retention


@shared_task(acks_late=True, ignore_result=True)
def retention_anonymise() -> int:
    """Daily: anonymise borrowers whose cases closed longer ago than the rule pack keeps records."""
    return retention.anonymise_expired()


@shared_task(acks_late=True, ignore_result=True)
def remove_orphan_uploads() -> int:
    """Daily: delete uploaded files older than a day that no row names (a fault between write and commit)."""
    from collections_app.services.uploads import orphans_remove

    return len(orphans_remove())


@shared_task
def seal_chains() -> int:
    """Every minute: chain the case events and audit rows left unsealed (the follow-up sweep's and other bulk
    writes, audit rows), batch after batch, for at most ``chain.SEAL_MAX_SECONDS`` (the next run goes on)."""
    return chain.seal_pending(max_seconds=chain.SEAL_MAX_SECONDS)
