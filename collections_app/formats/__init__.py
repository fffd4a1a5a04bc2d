"""Number and date formats that differ from Django's defaults (``settings.FORMAT_MODULE_PATH``)."""
