def celsius_to_fahrenheit(c):
    """Degrees Celsius to degrees Fahrenheit."""
    return c * 9 / 5 + 32


def fahrenheit_to_celsius(f):
    """Degrees Fahrenheit to degrees Celsius."""
    return (f - 32) * 5 / 9


def kelvin_to_celsius(k):
    """Kelvin to degrees Celsius."""
    return k - 273.15
