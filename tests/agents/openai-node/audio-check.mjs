// Drives LLMux's /v1/audio/transcriptions and /v1/audio/speech with the official openai npm client and prints one JSON
// line of what it saw. Usage: node audio-check.mjs <baseURL ending in /v1> <api key> <wav file> <transcription models,> <speech model:voice:format,>
import { readFile } from 'node:fs/promises';
import OpenAI, { toFile } from 'openai';

const [baseURL, apiKey, wavPath, sttModels, ttsModels] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 30_000 });
const wav = await readFile(wavPath);
const out = { transcriptions: {}, speech: {} };

for (const model of sttModels.split(',')) {
  const verbose = await client.audio.transcriptions.create({
    file: await toFile(wav, 'speech.wav', { type: 'audio/wav' }), model, response_format: 'verbose_json', timestamp_granularities: ['word'],
  }).catch((e) => ({ error: e.status ?? String(e) }));
  const text = await client.audio.transcriptions.create({ file: await toFile(wav, 'speech.wav', { type: 'audio/wav' }), model, response_format: 'text' })
    .catch((e) => ({ error: e.status ?? String(e) }));
  out.transcriptions[model] = { text: verbose.text, duration: verbose.duration ?? null, words: verbose.words?.length ?? null, error: verbose.error ?? null, plain: typeof text === 'string' ? text : text };
}

for (const spec of ttsModels.split(',')) {
  const [model, voice, format] = spec.split(':');
  const response = await client.audio.speech.create({ model, voice, input: 'Hello from the npm client.', ...(format ? { response_format: format } : {}) });
  const bytes = Buffer.from(await response.arrayBuffer());
  out.speech[model] = { contentType: response.headers.get('content-type'), length: bytes.length, head: bytes.subarray(0, 4).toString('latin1'), cost: response.headers.get('x-llmux-response-cost') };
}
console.log(JSON.stringify(out));
