"""The root of Dailies' errors, and the model's own.

Every `DailiesError` message says what went wrong and what to do next; the CLI prints it as one line.
The root lives here, in the lowest package, so that `models/` needs nothing from `pipeline/`;
`pipeline/errors.py` builds the rest of the family on it and re-exports these.
"""

from __future__ import annotations


class DailiesError(Exception):
    """Base class: the message is shown to the user as is."""


class UsageError(DailiesError):
    """Bad command-line or configuration input (exit code 2)."""


class ModelError(DailiesError):
    """The embedding model cannot be loaded or used."""


class WeightsUnavailable(ModelError):
    """Model weights are neither on local disk nor in the cache, and may not be downloaded."""
