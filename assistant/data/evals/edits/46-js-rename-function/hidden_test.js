const assert = require("assert");
const strings = require("./strings.js");

assert.strictEqual(strings.cap, undefined, "cap is still exported");
assert.strictEqual(typeof strings.capitalize, "function", "capitalize is not exported");
assert.strictEqual(strings.capitalize("word"), "Word");
assert.strictEqual(strings.titleCase("hello big world"), "Hello Big World");
