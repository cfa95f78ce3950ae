"""What both edges (the JSON API in ``loket.api``, the pages in ``loket.web``) share: the
HTTP status and words of every error code, path parameter patterns, and the request's
address. Neither edge imports the other; both import this and ``loket.services``."""
