// The integers from start to end, both included.
function range(start, end) {
  const out = [];
  for (let i = start; i <= end; i++) {
    out.push(i);
  }
  return out;
}

module.exports = { range };
