def squares_of_evens(numbers):
    return [n * n for n in numbers if n % 2 == 0]
