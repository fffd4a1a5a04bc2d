"""Application logs never contain a full national ID or mobile number."""

import io
import logging

from django.conf import settings

from collections_app.logging import PIIScrubFilter

ID = "32100219900101123X"
PHONE = "13812345678"


def _capture(logger_name: str):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(PIIScrubFilter())
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return logger, handler, stream


def test_ids_and_phones_are_masked_in_messages_and_arguments():
    logger, handler, stream = _capture("tests.pii.args")
    try:
        logger.info("borrower %s called from %s", ID, PHONE)
        logger.warning(f"inline {ID} / {PHONE} and 100% literal")
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert ID not in output and PHONE not in output
    assert "3210**********123X" in output and "138****5678" in output
    assert "100% literal" in output


def test_ids_are_masked_in_tracebacks():
    logger, handler, stream = _capture("tests.pii.exc")
    try:
        try:
            raise ValueError(f"duplicate national ID {ID}")
        except ValueError:
            logger.exception("import failed")
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert "Traceback" in output and "3210**********123X" in output
    assert ID not in output


def test_every_configured_handler_has_the_filter():
    handlers = settings.LOGGING["handlers"]
    assert handlers and all("pii" in handler.get("filters", []) for handler in handlers.values())
    assert settings.LOGGING["filters"]["pii"]["()"] == "collections_app.logging.PIIScrubFilter"
    root_handlers = logging.getLogger().handlers
    configured = [h for h in root_handlers if any(isinstance(f, PIIScrubFilter) for f in h.filters)]
    assert configured, "the root logger's handler was configured from settings.LOGGING"


def test_django_loggers_go_through_the_filtered_root_handler():
    for name in ("django", "django.request", "django.server"):
        logger = logging.getLogger(name)
        assert all(any(isinstance(f, PIIScrubFilter) for f in h.filters) for h in logger.handlers), name


def test_celery_durations_and_other_decimals_are_left_alone():
    logger, handler, stream = _capture("tests.pii.durations")
    try:
        logger.info("Task repayment.tasks.sweep_followups[abc] succeeded in 0.029112345678905254s: None")
        logger.info("Task x succeeded in 13.81234567890s: 3")
        logger.info("ratio 13812345678.25 and %s", "0.32100219900101123")
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert "*" not in output
    assert "0.029112345678905254s" in output and "13.81234567890s" in output
    assert "13812345678.25" in output and "0.32100219900101123" in output


def test_ids_and_phones_at_the_end_of_a_sentence_or_beside_chinese_are_still_masked():
    logger, handler, stream = _capture("tests.pii.sentence")
    try:
        logger.info("call %s. Then ID %s.", PHONE, ID)
        logger.info(f"手机{PHONE}，身份证{ID}。")  # noqa: RUF001 — Chinese punctuation on purpose
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert PHONE not in output and ID not in output
    assert output.count("138****5678") == 2 and output.count("3210**********123X") == 2
