// Text creditdesk can store. PostgreSQL's text and jsonb refuse the NUL character, and a lone
// UTF-16 surrogate has no UTF-8 form (the driver would store U+FFFD in its place, or jsonb refuses
// it), so both are refused wherever text comes in, with the same words everywhere.

/** A NUL, or a surrogate that is not half of a pair (with the u flag a pair reads as one code point). */
const unstorable = /[\0\p{Cs}]/u;

/**
 * What keeps `text` out of the database, or null when it can be stored. In: any string. Out: a
 * phrase that completes "<field> ...", such as "must not contain a NUL character (U+0000): remove it".
 */
export function textProblem(text: string): string | null {
  const found = unstorable.exec(text);
  if (!found) return null;
  if (found[0] === '\0') return 'must not contain a NUL character (U+0000): remove it';
  const unit = found[0].charCodeAt(0).toString(16).toUpperCase();
  return `must not contain a lone surrogate (U+${unit}): send valid Unicode text, where surrogates come in pairs`;
}

/**
 * The first string anywhere in `value` (object fields, array items, nested) that cannot be stored,
 * as "<path>: <problem>", or null. Dates and numbers are skipped. For the ledger's own check of its
 * inputs, whatever boundary they came through.
 */
export function unstorableTextIn(value: unknown, path = ''): string | null {
  if (typeof value === 'string') {
    const problem = textProblem(value);
    return problem ? (path ? `${path}: ${problem}` : `text ${problem}`) : null;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = unstorableTextIn(value[i], path ? `${path}.${i}` : String(i));
      if (found) return found;
    }
    return null;
  }
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    for (const [key, item] of Object.entries(value)) {
      const found = unstorableTextIn(item, path ? `${path}.${key}` : key);
      if (found) return found;
    }
  }
  return null;
}
