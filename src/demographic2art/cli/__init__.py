"""The ``d2a`` command line: one thin command per library function."""

from .main import app, main

__all__ = ["app", "main"]
