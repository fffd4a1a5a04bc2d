"""Beat picks up the drop folder every minute (README, "A daily feed from core banking")."""

import logging

from celery import shared_task

from collections_app.feed.drop import drop_pick_up, stuck_in_processing

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, ignore_result=True)
def pick_up_drop_folder() -> int:
    handled = drop_pick_up()
    for path in stuck_in_processing():
        logger.warning("drop folder: %s was claimed but never finished; move it back by hand to retry", path)
    return len(handled)
