/**
 * A client's text request as every JSON venue reads it: the object it holds, or why it holds none
 * (not JSON at all, or JSON that is not an object). Each venue answers the failure in its own words.
 */
export type ClientRequest =
  | { readonly ok: true; readonly body: Record<string, unknown> }
  | { readonly ok: false; readonly notJson: true; readonly parseError: string }
  | { readonly ok: false; readonly notJson: false };

export function readClientRequest(text: string): ClientRequest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { ok: false, notJson: true, parseError: (e as Error).message };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, notJson: false };
  return { ok: true, body: value as Record<string, unknown> };
}
