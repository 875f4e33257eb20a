"""Exception tree of demographic2art.

    D2AError                    base of every error the library raises on purpose
    ├── UserError               bad input from the user; the CLI prints one line, exit 2
    │   ├── InvalidValueError   a value outside what the option or field accepts
    │   ├── MissingFileError    a file or folder that should exist does not
    │   └── NonFiniteError      NaN or Inf in a loss or in tensors being saved
    ├── DataError               input data that cannot be processed as a whole
    └── QueueFullError          the generation queue has no free slot
"""

from __future__ import annotations


class D2AError(Exception):
    """Base class of the errors demographic2art raises on purpose."""


class UserError(D2AError):
    """Raised when the user's input is wrong; the message names the value and the fix."""


class InvalidValueError(UserError, ValueError):
    """Raised when a value lies outside what an option or field accepts."""


class MissingFileError(UserError, FileNotFoundError):
    """Raised when a file or folder the user named does not exist."""


class DataError(D2AError):
    """Raised when input data cannot be processed as a whole (not for single rows)."""


class WorkerError(D2AError):
    """Raised when a worker process of a long job ended without finishing its work."""


class NonFiniteError(UserError):
    """Raised when a loss or a tensor about to be saved contains NaN or Inf values."""


class QueueFullError(D2AError):
    """Raised when the generation job queue has no free slot."""

    def __init__(self, message: str, retry_after_s: int = 5) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
