"""Soak of the whole gateway under gunicorn: ``python -m bench.soak`` (see ``__main__``)."""
