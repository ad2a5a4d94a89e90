"""Which backend answers a turn: the router protocol, what a router is given (profiles from measured
figures), the chain of configured routers, and how routers are found.

Other packages read the chain's and the profiles' names from the package
(`routing.build_chain`): they load when first used (see core/lazy.py); the
protocol's types are light and imported from `routing.protocol` directly."""

from assistant.core.lazy import exports

__getattr__, __dir__ = exports(globals(), {
    "build_chain": "chain", "default_router": "chain",
    "classify": "kinds",
    "check_settings": "discovery",
    "local_midnight": "profiles", "measured": "profiles", "profile": "profiles",
})  # fmt: skip
