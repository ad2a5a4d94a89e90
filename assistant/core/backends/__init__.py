"""The backend side of the core: the protocol every backend implements (and the
capabilities it reports), the prompt budget its capabilities give (and what sets
it), the stand-in for one that cannot start, the checks of figures a backend
reports, and how many turns each may run at once. The pool a session draws its
backends from is the session's (core/session/pool.py)."""
