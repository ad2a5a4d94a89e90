const assert = require("assert");
const { range } = require("./ranges.js");

assert.deepStrictEqual(range(1, 3), [1, 2, 3]);
assert.deepStrictEqual(range(4, 4), [4]);
assert.deepStrictEqual(range(5, 4), []);
