from fizzbuzz import fizzbuzz

assert fizzbuzz(15) == "FizzBuzz"
assert fizzbuzz(30) == "FizzBuzz"
assert [fizzbuzz(n) for n in (1, 3, 5, 7)] == ["1", "Fizz", "Buzz", "7"]
