const assert = require("assert");
const { formatPrice } = require("./prices.js");

assert.strictEqual(formatPrice(3), "$3.00");
assert.strictEqual(formatPrice(3, "€"), "€3.00");
assert.strictEqual(formatPrice(2.5, "EUR "), "EUR 2.50");
