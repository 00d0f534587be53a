// How a count reads next to its noun ("1 seat", "2 seats", "1 premium request"): one rule for every
// Slack message, report and command-line summary, so that none says "1 seats" or "row(s)".

/** A count as people read it, grouped in thousands: 4000 is "4,000". */
const grouped = (count: number) => count.toLocaleString('en-US');

/**
 * `singular` as it goes after `count`: the singular for exactly one (1 or -1), else `plural`
 * (`singular` + "s" unless given: "person", "people"). English puts 0 and 1.5 in the plural.
 */
export function noun(count: number, singular: string, plural = `${singular}s`): string {
  return Math.abs(count) === 1 ? singular : plural;
}

/** The count, grouped in thousands, then its noun: "1 seat", "2,000 seats", "1 person", "3 people". */
export function counted(count: number, singular: string, plural?: string): string {
  return `${grouped(count)} ${noun(count, singular, plural)}`;
}

/**
 * A unit's name after `count`. A tool names its unit in the plural ("credits", "premium
 * requests": what many of them are called), so for one the last word loses its plural ending:
 * "1 premium request", "1 query". A name that does not end in a plural "s" is left as it is
 * ("1 AI usage", "1 credits (beta)"), since guessing there would make it worse.
 */
export function unitAfter(count: number, unit: string): string {
  return Math.abs(count) === 1 ? singularOf(unit) : unit;
}

/** The singular of a plural English word at the end of `name`; `name` itself when it is not one. */
function singularOf(name: string): string {
  const word = /[A-Za-z]+$/.exec(name)?.[0];
  if (!word || word.length < 3) return name;
  const head = name.slice(0, name.length - word.length);
  const lower = word.toLowerCase();
  if (/[^aeiou]ies$/.test(lower)) return `${head}${word.slice(0, -3)}${word.endsWith('IES') ? 'Y' : 'y'}`;
  if (/(ch|sh|ss|x|z)es$/.test(lower)) return `${head}${word.slice(0, -2)}`;
  // "credits", "requests"; not "bonus", "analysis", "access", which are singular already.
  if (/[^su]s$/.test(lower) && !/is$/.test(lower)) return `${head}${word.slice(0, -1)}`;
  return name;
}
