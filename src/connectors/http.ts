// A vendor's HTTP API as the connectors call it: a GET that honours Retry-After on 429 (and
// GitHub's rate-limit 403s), backs off on 5xx answers and network failures, stops after a bounded
// number of tries, and on 401 or 403 says which token to fix. Waiting is injected (`sleep`), so
// tests drive it without sleeping, and a shutdown cuts every wait and request short (`signal`).

/** How connectors reach vendors: the HTTP client, how they wait, and when to give up at once. */
export interface VendorHttp {
  fetch: typeof fetch;
  /** Resolves after `ms` milliseconds (rejects when `signal` aborts first). */
  sleep: (ms: number) => Promise<void>;
  /** Aborted when the service stops: the pull ends with what it recorded so far. */
  signal?: AbortSignal;
}

/** Tries of one request, the first included. */
export const vendor_tries_max = 5;
/** The first back-off after a 5xx or a network failure; it doubles, up to retry_delay_ms_max. */
export const retry_delay_ms_min = 1_000;
export const retry_delay_ms_max = 60_000;
/**
 * The longest wait a vendor may ask for (Retry-After, a rate limit's reset) before the pull gives
 * up instead: the next hourly pull starts where this one stopped.
 */
export const retry_after_ms_max = 5 * 60_000;
/** One request that has not answered by then counts as a network failure. */
export const request_timeout_ms = 30_000;
/** A vendor's error text kept in a message, at most. */
const vendor_message_chars_max = 300;

/** `config`: creditdesk's own settings for the connector are wrong (a tool that is not there). */
export type VendorErrorKind = 'auth' | 'rate_limited' | 'unavailable' | 'refused' | 'malformed' | 'stopped' | 'config';

/** A pull that cannot go on, with a message an admin can act on (it never holds a token). */
export class VendorError extends Error {
  override name = 'VendorError';
  constructor(
    message: string,
    readonly kind: VendorErrorKind,
  ) {
    super(message);
  }
}

export interface VendorRequest {
  /** The vendor as people call it: "Figma". */
  vendor: string;
  url: string;
  headers: Record<string, string>;
  /** What to do when the vendor refuses the credentials: names the variable, the token's kind and its scope. */
  tokenHint: string;
  /**
   * For vendors that answer a rate limit with 403 (GitHub): how long to wait, or null when this
   * 403 is a refusal of the token.
   */
  rateLimitWait?: (response: Response, body: string, nowMs: number) => number | null;
}

/**
 * Retry-After as RFC 9110 (10.2.3) writes it: delay-seconds or an HTTP-date (`Wed, 21 Oct 2015
 * 07:28:00 GMT`). Milliseconds from `nowMs`, or null when absent or unreadable, so that the caller
 * backs off instead. Seconds with a fraction (`1.5`), which some servers send, are read rounded up
 * to the millisecond. A date must name its weekday or month: JavaScript's Date.parse reads `-5`,
 * `1.5` or `2026` as dates long past, which would mean retrying at once, without any back-off.
 */
export function retryAfterMs(header: string | null, nowMs: number): number | null {
  if (header == null || header.trim() === '') return null;
  const text = header.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.ceil(Number(text) * 1000);
  if (!/[A-Za-z]{3}/.test(text)) return null;
  const at = Date.parse(text);
  return Number.isFinite(at) ? Math.max(0, at - nowMs) : null;
}

const backoff = (attempt: number) => Math.min(retry_delay_ms_max, retry_delay_ms_min * 2 ** (attempt - 1));

/** The vendor's own words about an error, from a JSON body's `message` (Figma, GitHub) or `err`, else the text. */
function vendorMessage(body: string): string {
  let said = body;
  try {
    const parsed = JSON.parse(body) as { message?: unknown; err?: unknown } | null;
    said = typeof parsed?.message === 'string' ? parsed.message : typeof parsed?.err === 'string' ? parsed.err : '';
  } catch {
    // not JSON: the text itself
  }
  said = said.replace(/\s+/g, ' ').trim();
  return said.length > vendor_message_chars_max ? `${said.slice(0, vendor_message_chars_max)}…` : said;
}

const withMessage = (status: number, body: string) => {
  const said = vendorMessage(body);
  return said ? `HTTP ${status}: ${said}` : `HTTP ${status}`;
};

/**
 * GETs `request.url` and returns its JSON body. Retries 429 after its Retry-After (or a back-off
 * when it has none), 5xx answers (after their Retry-After, if any) and network failures or
 * timeouts with a doubling back-off, at most vendor_tries_max tries in all.
 * Throws VendorError: `auth` on 401, or 403 that is not a rate limit (saying `tokenHint`);
 * `rate_limited` when asked to wait longer than retry_after_ms_max, or still limited after the
 * last try; `unavailable` after the last try of a 5xx or network failure; `refused` on another
 * 4xx; `malformed` when a 2xx body is not JSON; `stopped` when `http.signal` aborts.
 */
export async function getJson(http: VendorHttp, request: VendorRequest, nowMs: () => number): Promise<unknown> {
  const { vendor } = request;
  let problem = '';
  let kind: VendorErrorKind = 'unavailable';
  for (let attempt = 1; attempt <= vendor_tries_max; attempt++) {
    if (http.signal?.aborted) throw new VendorError(`${vendor}: stopped with the service`, 'stopped');
    const signals = [AbortSignal.timeout(request_timeout_ms), ...(http.signal ? [http.signal] : [])];
    let wait = 0;
    let response: Response | null = null;
    try {
      response = await http.fetch(request.url, { headers: request.headers, signal: AbortSignal.any(signals) });
    } catch (error) {
      if (http.signal?.aborted) throw new VendorError(`${vendor}: stopped with the service`, 'stopped');
      problem = `${vendor} could not be reached (${(error as Error).message})`;
      kind = 'unavailable';
      wait = backoff(attempt);
    }
    if (response) {
      if (response.ok) {
        const text = await response.text();
        try {
          return JSON.parse(text) as unknown;
        } catch {
          throw new VendorError(`${vendor} answered with something that is not JSON: ${vendorMessage(text).slice(0, 80)}`, 'malformed');
        }
      }
      const body = await response.text().catch(() => '');
      const status = response.status;
      const limitedFor = status === 403 ? (request.rateLimitWait?.(response, body, nowMs()) ?? null) : null;
      if (status === 401 || (status === 403 && limitedFor === null)) {
        throw new VendorError(`${vendor} refused the token (${withMessage(status, body)}): ${request.tokenHint}`, 'auth');
      }
      if (status === 429 || limitedFor !== null) {
        problem = `${vendor} is rate limiting creditdesk (${withMessage(status, body)})`;
        kind = 'rate_limited';
        wait = limitedFor ?? retryAfterMs(response.headers.get('retry-after'), nowMs()) ?? backoff(attempt);
      } else if (status >= 500) {
        problem = `${vendor} failed (${withMessage(status, body)})`;
        kind = 'unavailable';
        wait = retryAfterMs(response.headers.get('retry-after'), nowMs()) ?? backoff(attempt);
      } else {
        throw new VendorError(`${vendor} refused the request (${withMessage(status, body)})`, 'refused');
      }
    }
    if (wait > retry_after_ms_max) {
      throw new VendorError(`${problem}: it asks to wait ${Math.ceil(wait / 1000)} s, longer than a pull waits; the next pull tries again`, 'rate_limited');
    }
    if (attempt === vendor_tries_max) break;
    try {
      await http.sleep(wait);
    } catch {
      throw new VendorError(`${vendor}: stopped with the service`, 'stopped');
    }
  }
  throw new VendorError(`${problem}; gave up after ${vendor_tries_max} tries, the next pull tries again`, kind);
}

/** Real time for the service: a wait the signal cuts short rejects. */
export function realSleep(signal?: AbortSignal): (ms: number) => Promise<void> {
  return (ms) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(new Error('aborted'));
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(new Error('aborted'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
}
