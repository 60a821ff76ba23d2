// Drives LLMux's Files and Batches APIs with the official openai npm client and prints one JSON line of what it saw.
// Usage: node batches-check.mjs <baseURL ending in /v1> <api key> <gateway-run model> <native model>
import OpenAI, { toFile } from 'openai';

const [baseURL, apiKey, gatewayModel, nativeModel] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 30_000 });
const out = {};

const lines = (model, count) => Array.from({ length: count }, (_, i) => JSON.stringify({
  custom_id: `req-${i}`, method: 'POST', url: '/v1/chat/completions',
  body: { model, messages: [{ role: 'user', content: `question ${i}` }], max_tokens: 20 },
})).join('\n') + '\n';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(id, states) {
  for (let i = 0; i < 1200; i++) {
    const b = await client.batches.retrieve(id);
    if (states.includes(b.status)) return b;
    await sleep(50);
  }
  throw new Error(`batch ${id} never reached ${states}`);
}

async function run(model) {
  const file = await client.files.create({ file: await toFile(Buffer.from(lines(model, 20)), 'input.jsonl'), purpose: 'batch' });
  const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', metadata: { run: model } });
  const done = await until(created.id, ['completed', 'failed', 'cancelled', 'expired']);
  const content = await client.files.content(done.output_file_id);
  const output = (await content.text()).split('\n').filter((l) => l.length > 0);
  return { file, batch: { id: done.id, status: done.status, completed: done.request_counts.completed, output } };
}

const gateway = await run(gatewayModel);
out.file = { id: gateway.file.id, purpose: gateway.file.purpose, bytes: gateway.file.bytes };
out.gateway = gateway.batch;
out.native = (await run(nativeModel)).batch;

// batches.list, through the client's pagination
out.listed = [];
for await (const b of client.batches.list({ limit: 2 })) out.listed.push(b.id);

// a cancel while the batch runs
const slowFile = await client.files.create({ file: await toFile(Buffer.from(lines(gatewayModel, 1000)), 'slow.jsonl'), purpose: 'batch' });
const slow = await client.batches.create({ input_file_id: slowFile.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
await until(slow.id, ['in_progress']);
await client.batches.cancel(slow.id);
const cancelled = await until(slow.id, ['cancelled']);
out.cancelled = { status: cancelled.status, completed: cancelled.request_counts.completed };

// files.del, then the file is gone
out.deleted = (await client.files.delete(slowFile.id)).deleted;
try {
  await client.files.retrieve(slowFile.id);
  out.missing_status = 200;
} catch (e) {
  out.missing_status = e.status;
}

console.log(JSON.stringify(out));
