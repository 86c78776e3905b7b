import busboy from 'busboy';
import type { Request } from 'express';
import { ApiFailure, type Params } from './state';

/** Request parameters as Telegram reads them: query string plus a JSON, urlencoded or multipart body. */
export interface ParsedRequest {
  params: Params;
  /** Uploaded files by field name (multipart only), e.g. `photo` for sendPhoto. */
  files: Record<string, Buffer>;
}

// Fields whose value is a JSON object/array; form encodings carry them as JSON strings.
const JSON_FIELDS = new Set([
  'reply_markup',
  'prices',
  'entities',
  'caption_entities',
  'link_preview_options',
  'reply_parameters',
  'commands',
  'scope',
  'allowed_updates',
  'suggested_tip_amounts',
  'media',
]);

function readRaw(req: Request): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function readMultipart(req: Request): Promise<ParsedRequest> {
  return new Promise((resolve, reject) => {
    const params: Params = {};
    const files: Record<string, Buffer> = {};
    const bb = busboy({ headers: req.headers });
    bb.on('field', (name, value) => {
      params[name] = value;
    });
    bb.on('file', (name, stream) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        files[name] = Buffer.concat(chunks);
      });
    });
    bb.on('close', () => resolve({ params, files }));
    bb.on('error', (err) => reject(new ApiFailure(400, `Bad Request: ${(err as Error).message}`)));
    req.pipe(bb);
  });
}

function normalize(params: Params): Params {
  for (const [key, value] of Object.entries(params)) {
    if (!JSON_FIELDS.has(key) || typeof value !== 'string') continue;
    try {
      params[key] = JSON.parse(value);
    } catch {
      throw new ApiFailure(400, `Bad Request: can't parse ${key} JSON object`);
    }
  }
  delete params.method; // telegraf repeats the method name inside multipart bodies
  return params;
}

export async function parseRequest(req: Request): Promise<ParsedRequest> {
  const query: Params = { ...(req.query as Params) };
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (req.method === 'GET' || req.method === 'HEAD') return { params: normalize(query), files: {} };
  if (type.startsWith('multipart/form-data')) {
    const { params, files } = await readMultipart(req);
    return { params: normalize({ ...query, ...params }), files };
  }
  const raw = (await readRaw(req)).toString('utf8');
  if (type.startsWith('application/x-www-form-urlencoded')) {
    return { params: normalize({ ...query, ...Object.fromEntries(new URLSearchParams(raw)) }), files: {} };
  }
  if (raw.trim() === '') return { params: normalize(query), files: {} };
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    throw new ApiFailure(400, 'Bad Request: invalid JSON in request body');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ApiFailure(400, 'Bad Request: request body must be a JSON object');
  }
  return { params: normalize({ ...query, ...(body as Params) }), files: {} };
}

/** Reads an integer parameter the way Telegram does ("123" and 123 are the same). */
export function intParam(params: Params, name: string, required = true): number | undefined {
  const value = params[name];
  if (value === undefined || value === null || value === '') {
    if (required) throw new ApiFailure(400, `Bad Request: ${name} is empty`);
    return undefined;
  }
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(n)) throw new ApiFailure(400, `Bad Request: ${name} is invalid`);
  return n;
}

export function strParam(params: Params, name: string): string | undefined {
  const value = params[name];
  return value === undefined || value === null ? undefined : String(value);
}

export function boolParam(params: Params, name: string): boolean | undefined {
  const value = params[name];
  if (value === undefined || value === null) return undefined;
  return value === true || value === 'true' || value === 1 || value === '1';
}
