// Reading a request for the API's routes: the refusals a caller causes before the ledger is asked
// (400 naming the field, 415 for a body that is not JSON), and the checks that raise them.
import type { Context } from 'hono';
import type { z } from 'zod';
import { describeIssues } from './schemas.ts';

/** Bad input: answered 400 with the message, nothing written. */
export class BadRequest extends Error {}
/** A body not sent as JSON: answered 415, nothing applied. */
export class UnsupportedMediaType extends Error {}

/** `value` through `schema`; a BadRequest naming each field at fault (after `prefix`, such as `events.0: `) otherwise. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, prefix = ''): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new BadRequest(prefix + describeIssues(result.error));
  return result.data;
}

/** `application/json`, with or without parameters (a charset of utf-8 only: JSON is UTF-8, RFC 8259). */
function isJson(contentType: string | undefined): boolean {
  const [type, ...parameters] = (contentType ?? '').split(';').map((part) => part.trim().toLowerCase());
  if (type !== 'application/json') return false;
  return parameters.every((p) => !p.startsWith('charset=') || p.replace(/^charset=\s*"?|"$/g, '') === 'utf-8');
}

/** The body as JSON; 415 unless it says it is JSON (a form or text/plain is never applied), 400 unless it is. */
export async function jsonBody(c: Context): Promise<unknown> {
  if (!isJson(c.req.header('content-type'))) {
    throw new UnsupportedMediaType('the body must be JSON, sent with Content-Type: application/json');
  }
  let text: string;
  try {
    // Fatal: a byte that is not UTF-8 is refused, never stored as U+FFFD in its place.
    text = utf8.decode(await c.req.arrayBuffer());
  } catch {
    throw new BadRequest('the body is not valid UTF-8: send JSON encoded as UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    // The type was right: it is the text that is not JSON. Say where, as the parser does.
    throw new BadRequest(`the body is not valid JSON (${error instanceof Error ? error.message.slice(0, 200) : 'unreadable'})`);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
