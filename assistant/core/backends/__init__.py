"""The backend side of the core: the protocol every backend implements, the pool a session draws
from, the stand-in for one that cannot start, and how many turns each may run at once."""
