function maxOf(numbers) {
  return Math.max(...numbers);
}

module.exports = { maxOf };
