import { test } from "node:test";
import assert from "node:assert/strict";
import {
  acceptDeflateAnswer,
  checkCompressionOptions,
  type CompressionOptions,
  createDeflateOffer,
  negotiateDeflate,
} from "../../src/extensions/permessage_deflate.ts";
import { parseExtensionList } from "../../src/handshake/_header_values.ts";

const parse = (value: string) =>
  parseExtensionList(value, (detail) => {
    throw new Error(detail);
  });
const answerTo = (offer: string, options: CompressionOptions = {}) =>
  negotiateDeflate(parse(offer), options)?.answer;
const agreed = (offer: string, options: CompressionOptions = {}) =>
  negotiateDeflate(parse(offer), options)?.params;

test("a client offers client_max_window_bits without a value by default, as browsers do", () => {
  assert.equal(createDeflateOffer({}), "permessage-deflate; client_max_window_bits");
});

test("a client offers every parameter it is given", () => {
  assert.equal(
    createDeflateOffer({
      serverNoContextTakeover: true,
      clientNoContextTakeover: true,
      serverMaxWindowBits: 10,
      clientMaxWindowBits: 12,
    }),
    "permessage-deflate; server_no_context_takeover; client_no_context_takeover; " +
      "server_max_window_bits=10; client_max_window_bits=12",
  );
});

test("a server accepts a bare offer with nothing to add", () => {
  assert.equal(answerTo("permessage-deflate"), "permessage-deflate");
  assert.deepEqual(agreed("permessage-deflate"), {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: 15,
    clientMaxWindowBits: 15,
  });
});

test("a server answers Chromium's offer without limiting the client's window", () => {
  assert.equal(
    answerTo("permessage-deflate; client_max_window_bits"),
    "permessage-deflate",
  );
});

test("a server echoes the no_context_takeover parameters the client offered", () => {
  assert.equal(
    answerTo("permessage-deflate; server_no_context_takeover; client_no_context_takeover"),
    "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
  );
  assert.deepEqual(
    agreed("permessage-deflate; server_no_context_takeover"),
    {
      serverNoContextTakeover: true,
      clientNoContextTakeover: false,
      serverMaxWindowBits: 15,
      clientMaxWindowBits: 15,
    },
  );
});

test("a server adds the no_context_takeover parameters its options ask for", () => {
  assert.equal(
    answerTo("permessage-deflate", {
      serverNoContextTakeover: true,
      clientNoContextTakeover: true,
    }),
    "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
  );
});

test("a server answers server_max_window_bits with the smaller of the offer and its options", () => {
  assert.equal(
    answerTo("permessage-deflate; server_max_window_bits=12"),
    "permessage-deflate; server_max_window_bits=12",
  );
  assert.equal(
    answerTo("permessage-deflate; server_max_window_bits=12", { serverMaxWindowBits: 10 }),
    "permessage-deflate; server_max_window_bits=10",
  );
  assert.equal(
    answerTo("permessage-deflate", { serverMaxWindowBits: 9 }),
    "permessage-deflate; server_max_window_bits=9",
  );
  assert.equal(agreed("permessage-deflate; server_max_window_bits=8")?.serverMaxWindowBits, 8);
});

test("a server limits the client's window only where the client offered the parameter", () => {
  assert.equal(
    answerTo("permessage-deflate; client_max_window_bits", { clientMaxWindowBits: 10 }),
    "permessage-deflate; client_max_window_bits=10",
  );
  assert.equal(
    answerTo("permessage-deflate; client_max_window_bits=9", { clientMaxWindowBits: 10 }),
    "permessage-deflate; client_max_window_bits=9",
  );
  assert.equal(
    answerTo("permessage-deflate; client_max_window_bits=11"),
    "permessage-deflate; client_max_window_bits=11",
  );
  assert.equal(agreed("permessage-deflate; client_max_window_bits=11")?.clientMaxWindowBits, 11);
  // The client cannot be limited without the parameter: the offer is declined.
  assert.equal(answerTo("permessage-deflate", { clientMaxWindowBits: 10 }), undefined);
});

test("a server declines malformed or repeated parameters and takes the next offer", () => {
  for (
    const bad of [
      "permessage-deflate; server_max_window_bits",
      "permessage-deflate; server_max_window_bits=7",
      "permessage-deflate; server_max_window_bits=16",
      "permessage-deflate; server_max_window_bits=010",
      "permessage-deflate; server_max_window_bits=09",
      "permessage-deflate; client_max_window_bits=abc",
      "permessage-deflate; server_no_context_takeover=1",
      "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
      "permessage-deflate; server_max_window_bits=10; server_max_window_bits=10",
      "permessage-deflate; unknown_parameter",
    ]
  ) {
    assert.equal(answerTo(bad), undefined, bad);
    assert.equal(
      answerTo(`${bad}, permessage-deflate; server_max_window_bits=11`),
      "permessage-deflate; server_max_window_bits=11",
      `${bad}, then a good offer`,
    );
  }
});

test("a server picks the first acceptable of several offers, skipping other extensions", () => {
  assert.equal(
    answerTo(
      "x-webkit-deflate-frame, permessage-deflate; client_max_window_bits=10, permessage-deflate",
    ),
    "permessage-deflate; client_max_window_bits=10",
  );
  assert.equal(answerTo("x-webkit-deflate-frame"), undefined);
  assert.equal(answerTo(""), undefined);
});

test("a server takes quoted values as the tokens they hold", () => {
  assert.equal(
    answerTo('permessage-deflate; client_max_window_bits="10"'),
    "permessage-deflate; client_max_window_bits=10",
  );
});

test("a client reads the parameters the server answered with", () => {
  assert.deepEqual(
    acceptDeflateAnswer(
      parse(
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover; " +
          "server_max_window_bits=10; client_max_window_bits=9",
      ),
      {},
    ),
    {
      serverNoContextTakeover: true,
      clientNoContextTakeover: true,
      serverMaxWindowBits: 10,
      clientMaxWindowBits: 9,
    },
  );
  assert.deepEqual(acceptDeflateAnswer(parse("permessage-deflate"), {}), {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: 15,
    clientMaxWindowBits: 15,
  });
});

test("a client keeps its own no_context_takeover and window limits when the answer omits them", () => {
  assert.deepEqual(
    acceptDeflateAnswer(parse("permessage-deflate"), {
      clientNoContextTakeover: true,
      clientMaxWindowBits: 11,
    }),
    {
      serverNoContextTakeover: false,
      clientNoContextTakeover: true,
      serverMaxWindowBits: 15,
      clientMaxWindowBits: 11,
    },
  );
});

test("a client sees no compression when the server answers without the extension", () => {
  assert.equal(acceptDeflateAnswer([], {}), undefined);
  assert.equal(acceptDeflateAnswer(parse("x-other"), {}), undefined);
});

test("a client refuses an answer that is malformed, repeated or breaks its offer", () => {
  const cases: [string, CompressionOptions, RegExp][] = [
    ["permessage-deflate, permessage-deflate", {}, /twice/],
    ["permessage-deflate; server_max_window_bits", {}, /no value/],
    ["permessage-deflate; client_max_window_bits", {}, /no value/],
    ["permessage-deflate; server_max_window_bits=20", {}, /from 8 to 15/],
    ["permessage-deflate; foo=bar", {}, /unknown parameter foo/],
    ["permessage-deflate; server_no_context_takeover; server_no_context_takeover", {}, /repeated/],
    ["permessage-deflate; client_max_window_bits=12", { clientMaxWindowBits: 10 }, /over the 10/],
    ["permessage-deflate", { serverMaxWindowBits: 10 }, /absent/],
    ["permessage-deflate; server_max_window_bits=12", { serverMaxWindowBits: 10 }, /12/],
    ["permessage-deflate", { serverNoContextTakeover: true }, /server_no_context_takeover/],
  ];
  for (const [answer, options, message] of cases) {
    assert.throws(() => acceptDeflateAnswer(parse(answer), options), message, answer);
  }
});

test("the compression option is checked for range", () => {
  assert.equal(checkCompressionOptions(undefined, "x"), undefined);
  assert.equal(checkCompressionOptions(false, "x"), undefined);
  assert.deepEqual(checkCompressionOptions(true, "x"), {});
  for (
    const bad of [
      { threshold: -1 },
      { serverMaxWindowBits: 16 },
      { clientMaxWindowBits: 7 },
      { level: 10 },
      { memLevel: 0 },
    ]
  ) {
    assert.throws(
      () => checkCompressionOptions(bad, "open connection"),
      (error) =>
        error instanceof RangeError && /^Cannot open connection: compression\./.test(error.message),
    );
  }
});
