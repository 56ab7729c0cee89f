# Gunicorn reads this file when started from this folder; elsewhere pass `-c path/to/it`.
import gc

# Registration links carry secret tokens in their paths: keep them out of the access log.
logger_class = "portico.core.gunicorn_logging.RedactingLogger"


def post_worker_init(worker):
    """Once the worker has loaded Portico, move what it loaded (modules, models, the FHIR
    resource classes: hundreds of thousands of objects that live as long as the process) out
    of the garbage collector's reach. A full collection otherwise walks all of them and holds
    up the request it falls in (59 ms in a worker measured here; under 1 ms with them frozen)."""
    gc.freeze()
