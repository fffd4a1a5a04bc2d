import pytest


@pytest.fixture(autouse=True)
def _media_and_drop(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.IMPORT_DROP_DIR = tmp_path / "drop"
    settings.IMPORT_DROP_SETTLE_SECONDS = 0
    return settings.IMPORT_DROP_DIR
