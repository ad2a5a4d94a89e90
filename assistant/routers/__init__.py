"""The built-in routers: `rules`, `budget`, `privacy`, `quality`, `fixed` (the chain that asks them is core/routing/chain.py).

Each is registered under the `assistant.routers` entry-point group in our own
pyproject.toml, exactly as a third-party router would be, and imported only
when a chain names it. This package holds only the few helpers they share, so
importing one router imports no other.
"""

from __future__ import annotations

from assistant.render import format as fmt
from assistant.core.routing.protocol import BackendProfile, RouteContext, RouteDecision, estimates


def money(dollars: float) -> str:
    """`$0` for nothing (a free local turn), else as the status bar shows it."""
    return "$0" if dollars == 0 else fmt.cost(dollars)


def tokens(count: int) -> str:
    return f"{count:,}"


def unavailable(profile: BackendProfile) -> str:
    """`claude is unavailable (no API key)`."""
    why = profile.unavailable_reason.strip().splitlines()[0] if profile.unavailable_reason.strip() else ""
    why = why.split(". ")[0].rstrip(".")  # the badge names the cause; the full advice is said elsewhere
    why = why.removeprefix(f"{profile.name.capitalize()} is unavailable: ")
    return f"{profile.name} is unavailable" + (f" ({why})" if why else "")


def local_only(context: RouteContext) -> tuple[str, tuple[str, ...], str]:
    """For a turn that must not leave the machine: the backend, its fallbacks
    (the other available local backends) and a note when none can take it.

    With no local backend available the decision still names a local one (or
    `local`), so the turn fails with that backend's reason and never goes out.
    """
    local = [b for b in context.backends if b.local or b.private]  # this machine first, then the user's servers
    local.sort(key=lambda b: not b.local)
    ready = [b for b in local if b.available]
    if ready:
        return ready[0].name, tuple(b.name for b in ready[1:]), ""
    if local:
        return local[0].name, (), f", but {unavailable(local[0])}"
    return "local", (), ", but there is no local backend"


def local_only_decision(context: RouteContext, why: str, suffix: str = "") -> RouteDecision:
    """A decision that keeps the turn on this machine: `why → local{suffix}`, falling
    back only to other local backends."""
    backend, fallbacks, note = local_only(context)
    return RouteDecision(
        backend,
        f"{why} → {backend}{suffix}{note}",
        estimates=estimates(context),
        fallbacks=fallbacks,
        allow_any_fallback=False,
    )
