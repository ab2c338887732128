// The official OpenAI Node SDK (the client most users run) against the
// gateway: every refusal the gateway makes must reach the SDK as the error
// class its status maps to, with the gateway's `code` and `type` readable
// on it, and a plain and a streamed completion must work through it.
//   node openai_sdk_check.mjs BASE_URL   (BASE_URL ends in /v1)
// Prints one line per case; exits 1 on the first mismatch.
import OpenAI from 'openai';

const base = process.argv[2];
const messages = [{ role: 'user', content: 'hello' }];
const client = (apiKey) => new OpenAI({ apiKey, baseURL: base, maxRetries: 0, timeout: 10000 });

function fail(what) {
  console.log(`FAIL: ${what}`);
  process.exit(1);
}

const refusals = [
  // [key, SDK class, status, code, type]
  ['sk-nobody-has-this', OpenAI.AuthenticationError, 401, 'invalid_api_key', 'invalid_request_error'],
  ['sk-sdk-disabled', OpenAI.PermissionDeniedError, 403, 'key_disabled', 'permission_error'],
  ['sk-sdk-expired', OpenAI.PermissionDeniedError, 403, 'key_expired', 'permission_error'],
  ['sk-sdk-later', OpenAI.PermissionDeniedError, 403, 'key_not_yet_valid', 'permission_error'],
  ['sk-sdk-elsewhere', OpenAI.PermissionDeniedError, 403, 'ip_not_allowed', 'permission_error'],
  ['sk-sdk-spent', OpenAI.RateLimitError, 429, 'quota_exceeded', 'insufficient_quota'],
];

for (const [key, cls, status, code, type] of refusals) {
  try {
    await client(key).chat.completions.create({ model: 'fake-model', messages });
    fail(`${code}: the request succeeded`);
  } catch (e) {
    if (!(e instanceof cls)) fail(`${code}: got ${e.constructor.name} (${e.message}), want ${cls.name}`);
    if (e.status !== status || e.code !== code || e.type !== type)
      fail(`${code}: status ${e.status} code ${e.code} type ${e.type}, want ${status} ${code} ${type}`);
    console.log(`${code}: ${cls.name} ${status} ok`);
  }
}

const ok = client('sk-sdk-good');
const plain = await ok.chat.completions.create({ model: 'fake-model', messages });
if (!plain.choices?.[0]?.message?.content) fail('plain completion has no content');
if (!(plain.usage?.total_tokens > 0)) fail('plain completion has no usage');
console.log('plain completion: ok');

let text = '';
let usage = null;
const stream = await ok.chat.completions.create({
  model: 'fake-model', messages, stream: true, stream_options: { include_usage: true },
});
for await (const chunk of stream) {
  text += chunk.choices?.[0]?.delta?.content ?? '';
  if (chunk.usage) usage = chunk.usage;
}
if (!text) fail('streamed completion has no content');
if (!(usage?.total_tokens > 0)) fail('streamed completion has no usage');
console.log('streamed completion: ok');
