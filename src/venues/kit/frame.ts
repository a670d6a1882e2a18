/**
 * Reading a text frame: JSON that must be an object, with one error wording for every venue
 * (`<venue>: bad JSON frame (<why>): <start of frame>`, `<venue>: unexpected frame (not an
 * object): <start of frame>`), the frame cut to a preview so the message stays small.
 */

import { isObj, type Obj, preview } from './json-fields.js';

export function parseObjectFrame(venue: string, text: string): Obj {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch (err) {
    throw new Error(`${venue}: bad JSON frame (${(err as Error).message}): ${preview(text)}`);
  }
  if (!isObj(msg)) throw new Error(`${venue}: unexpected frame (not an object): ${preview(text)}`);
  return msg;
}
