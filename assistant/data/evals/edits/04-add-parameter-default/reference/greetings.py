def greet(name, greeting="Hello"):
    return f"{greeting}, {name}!"


def greet_all(names):
    return [greet(name) for name in names]
