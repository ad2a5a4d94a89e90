"""Which backend answers a turn: the router protocol, what a router is given (profiles from measured
figures), the chain of configured routers, and how routers are found."""
