from people import Person

assert Person("Ann", 30).greeting() == "Ann (30)"
Person("Ann", 0)
Person("Ann", 150)
for name, age in (("Ann", -1), ("Ann", 151), ("", 30)):
    try:
        Person(name, age)
    except ValueError:
        pass
    else:
        raise AssertionError(f"Person({name!r}, {age}) raised nothing")
