from pathlib import Path

from django.apps import AppConfig
from django.conf import settings


class ProjectConfig(AppConfig):
    """The project package as an app, so that start-up work has a place that is not settings import."""

    name = "config"
    verbose_name = "Doorstep"

    def ready(self) -> None:
        # The no-server default writes under VAR_DIR: kombu's filesystem transport needs its folders before
        # the first message is sent or read, by the web process and the worker alike.
        folders = [Path(settings.VAR_DIR), Path(settings.STATIC_ROOT), Path(settings.MEDIA_ROOT)]
        if settings.CELERY_BROKER_URL.startswith("filesystem://"):
            folders += [Path(settings.CELERY_BROKER_DIR) / sub for sub in ("in", "processed", "control")]
        for folder in folders:
            folder.mkdir(parents=True, exist_ok=True)
