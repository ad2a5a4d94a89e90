function maxOf(numbers) {
  if (numbers.length === 0) {
    return null;
  }
  return Math.max(...numbers);
}

module.exports = { maxOf };
