// Drives LLMux's /v1/responses with the official openai npm client and prints one JSON line of what it saw.
// Usage: node responses-check.mjs <baseURL ending in /v1> <api key> <model> <tool model>
import OpenAI from 'openai';

const [baseURL, apiKey, model, toolModel] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 30_000 });
const out = {};

// responses.create, not streamed
const created = await client.responses.create({ model, input: 'ping pong' });
out.created = { id: created.id, status: created.status, text: created.output_text, usage: created.usage };

// responses.create with stream: true, iterated event by event
const types = [];
let streamedText = '';
let streamedId = null;
const stream = await client.responses.create({ model, input: 'ping pong', stream: true });
for await (const event of stream) {
  types.push(event.type);
  if (event.type === 'response.output_text.delta') streamedText += event.delta;
  if (event.type === 'response.completed') streamedId = event.response.id;
}
out.stream = { types, text: streamedText, id: streamedId };

// responses.stream helper, with its final response
const helper = client.responses.stream({ model, input: 'ping pong' });
const final = await helper.finalResponse();
out.helper = { text: final.output_text, status: final.status };

// a function tool, then its output through previous_response_id
const tools = [{ type: 'function', name: 'get_weather', description: 'Weather for a place', strict: false,
  parameters: { type: 'object', properties: { location: { type: 'string' } } } }];
const first = await client.responses.create({ model: toolModel, input: 'weather in Paris?', tools });
const call = first.output.find((i) => i.type === 'function_call');
const second = await client.responses.create({ model, previous_response_id: first.id,
  input: [{ type: 'function_call_output', call_id: call.call_id, output: 'sunny' }] });
out.tool = { name: call.name, call_id: call.call_id, arguments: call.arguments, followUpStatus: second.status, followUpText: second.output_text };

// retrieve, delete, then retrieve again (404)
const got = await client.responses.retrieve(created.id);
out.retrieved = { id: got.id, text: got.output_text };
const deleted = await client.responses.delete(created.id);
out.deleted = deleted ?? null;
try {
  await client.responses.retrieve(created.id);
  out.afterDelete = 'found';
} catch (e) {
  out.afterDelete = e instanceof OpenAI.NotFoundError ? 404 : String(e);
}
console.log(JSON.stringify(out));
