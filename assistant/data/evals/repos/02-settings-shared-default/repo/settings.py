"""An application's settings: the defaults, with what the user chose over them."""

DEFAULTS = {"theme": "light", "font_size": 12, "plugins": []}


def load(user=None, base=DEFAULTS):
    """The settings: `base` (the defaults) with `user`'s values over them.

    Unknown names are refused with a ValueError.
    """
    settings = base
    for name, value in (user or {}).items():
        if name not in DEFAULTS:
            raise ValueError(f"unknown setting: {name}")
        settings[name] = value
    return settings


def add_plugin(settings, plugin):
    """The settings with `plugin` enabled (once)."""
    if plugin not in settings["plugins"]:
        settings["plugins"].append(plugin)
    return settings
