/**
 * GET a JSON document from a venue's REST endpoint with hard limits: only the configured
 * origin is contacted, the request times out, and the body may not exceed `maxBytes`.
 */
export async function fetchJsonBounded(
  url: string,
  allowedBase: string,
  timeoutMs: number,
  maxBytes: number,
): Promise<unknown> {
  const target = new URL(url);
  if (target.origin !== new URL(allowedBase).origin) {
    throw new Error(`refusing to fetch ${target.origin}: only the configured REST origin is contacted`);
  }
  const res = await fetch(target, { signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
  const declared = Number(res.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) {
    await res.body?.cancel();
    throw new Error(`REST body of ${declared} bytes from ${target.pathname} exceeds the ${maxBytes}-byte limit`);
  }
  const text = await readBounded(res, maxBytes, target.pathname);
  if (!res.ok) throw new Error(`HTTP ${res.status} from ${target.pathname}: ${text.slice(0, 200)}`);
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`invalid JSON from ${target.pathname}: ${text.slice(0, 100)}`);
  }
}

async function readBounded(res: Response, maxBytes: number, path: string): Promise<string> {
  if (!res.body) return '';
  const decoder = new TextDecoder();
  let size = 0;
  let text = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > maxBytes) throw new Error(`REST body from ${path} exceeds the ${maxBytes}-byte limit`);
    text += decoder.decode(chunk, { stream: true });
  }
  return text + decoder.decode();
}
