const assert = require("assert");
const { maxOf } = require("./maximum.js");

assert.strictEqual(maxOf([]), null);
assert.strictEqual(maxOf([3, 9, 2]), 9);
assert.strictEqual(maxOf([-4]), -4);
