# Gunicorn reads this file when started from this folder; elsewhere pass `-c path/to/it`.
# Registration links carry secret tokens in their paths: keep them out of the access log.
logger_class = "portico.core.gunicorn_logging.RedactingLogger"
