"""demographic2art: how an artist's demographics show up in art.

Each stage of the study is a subpackage with library functions that notebooks can
call directly; the ``d2a`` command line in :mod:`demographic2art.cli` is a thin layer
over them.
"""

__version__ = "0.1.0"
