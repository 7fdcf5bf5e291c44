"""WSGI entry point: ``gunicorn wsgi:app`` or ``flask --app wsgi run``."""

import gc

from webapp import create_app

app = create_app()
# What start-up built (modules, mappers, catalogs) lives as long as the process: the cyclic
# garbage collector need not scan it again and again. Its first full collection under load
# took about 0.1 s, with every thread of the worker waiting (README, "SMS webhook under load").
gc.freeze()
