import units

for function in (units.celsius_to_fahrenheit, units.fahrenheit_to_celsius, units.kelvin_to_celsius):
    assert (function.__doc__ or "").strip(), f"{function.__name__} has no docstring"
assert units.celsius_to_fahrenheit(100) == 212
assert units.fahrenheit_to_celsius(32) == 0
assert units.kelvin_to_celsius(273.15) == 0
