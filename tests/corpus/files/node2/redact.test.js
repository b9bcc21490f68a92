const { redact } = require("../src/redact");
const test = require("node:test");
const assert = require("node:assert");

test("keeps four characters", () => {
  assert.equal(redact("abcdefghijklmnop"), "abcd…(16 chars)");
});

test("placeholders pass through", () => {
  for (const v of ["<token>", "${TOKEN}", "process.env.TOKEN", "xxxxxxxx"]) {
    assert.equal(redact(v), v);
  }
});
