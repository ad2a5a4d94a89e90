from greetings import greet, greet_all

assert greet("Ann") == "Hello, Ann!"
assert greet("Ann", greeting="Hey") == "Hey, Ann!"
assert greet("Ann", "Hi") == "Hi, Ann!"
assert greet_all(["A", "B"]) == ["Hello, A!", "Hello, B!"]
