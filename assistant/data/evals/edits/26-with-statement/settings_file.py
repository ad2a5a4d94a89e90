def read_settings(path):
    """`key = value` lines of the file at `path`; # starts a comment line."""
    file = open(path, encoding="utf-8")
    settings = {}
    for line in file:
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            settings[key.strip()] = value.strip()
    file.close()
    return settings
