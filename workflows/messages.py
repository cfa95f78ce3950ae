"""The permit workflow's payloads live in the case core (``loket.case.messages``); this
name stays for callers and recorded histories that import it."""

from loket.case.messages import *  # noqa: F403
from loket.case.messages import __all__ as __all__
