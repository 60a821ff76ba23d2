// Drives LLMux's /v1/images/generations, /v1/images/edits and /v1/moderations with the official openai npm client and
// prints one JSON line of what it saw.
// Usage: node images-moderations-check.mjs <baseURL ending in /v1> <api key> <image model> <dall-e model> <moderation model>
import OpenAI, { toFile } from 'openai';

const [baseURL, apiKey, imageModel, dalleModel, moderationModel] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 30_000 });
const out = {};
const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

// images.generate (gpt-image: b64_json and token usage)
const generated = await client.images.generate({ model: imageModel, prompt: 'a cat in watercolour', size: '1024x1536', background: 'transparent', output_format: 'webp' });
out.generate = { count: generated.data.length, b64: generated.data[0].b64_json, usage: generated.usage, output_format: generated.output_format };

// images.generate on dall-e with a url answer, through withResponse to see the cost header
const { data: dalle, response: dalleResponse } = await client.images.generate({ model: dalleModel, prompt: 'a cat', n: 2, size: '256x256', response_format: 'url' }).withResponse();
out.dalle = { urls: dalle.data.map((d) => d.url), cost: dalleResponse.headers.get('x-llmux-response-cost') };

// images.generate with stream: true and partial images, iterated event by event
const events = [];
const stream = await client.images.generate({ model: imageModel, prompt: 'a cat', stream: true, partial_images: 2 });
for await (const event of stream) events.push({ type: event.type, index: event.partial_image_index ?? null, usage: event.usage ?? null });
out.stream = events;

// images.edit with two images and a mask (multipart, image[] repeated)
const edited = await client.images.edit({
  model: imageModel,
  prompt: 'add a hat',
  image: [await toFile(png, 'cat.png', { type: 'image/png' }), await toFile(png, 'dog.png', { type: 'image/png' })],
  mask: await toFile(png, 'mask.png', { type: 'image/png' }),
});
out.edit = { count: edited.data.length, b64: edited.data[0].b64_json, usage: edited.usage };

// images.edit streamed
const editEvents = [];
const editStream = await client.images.edit({ model: imageModel, prompt: 'add a hat', image: await toFile(png, 'cat.png', { type: 'image/png' }), stream: true, partial_images: 1 });
for await (const event of editStream) editEvents.push(event.type);
out.editStream = editEvents;

// moderations.create: one text, several texts, multimodal parts
const one = await client.moderations.create({ model: moderationModel, input: 'I will kill them.' });
const many = await client.moderations.create({ model: moderationModel, input: ['hello there', 'I will kill them.'] });
const parts = await client.moderations.create({ model: moderationModel, input: [{ type: 'text', text: 'look at this' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,' + png.toString('base64') } }] });
out.moderations = {
  one: { model: one.model, flagged: one.results.map((r) => r.flagged), violence: one.results[0].categories.violence },
  many: many.results.map((r) => r.flagged),
  parts: { count: parts.results.length, applied: parts.results[0].category_applied_input_types ?? null },
};

// a refused request surfaces as the client's BadRequestError
try {
  await client.images.generate({ model: dalleModel, prompt: 'a cat', size: '1792x1024' });
  out.refused = 'accepted';
} catch (e) {
  out.refused = e instanceof OpenAI.BadRequestError ? { status: e.status, param: e.param } : String(e);
}
console.log(JSON.stringify(out));
