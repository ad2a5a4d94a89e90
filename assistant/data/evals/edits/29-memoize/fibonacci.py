def fib(n):
    """The n-th Fibonacci number."""
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)
