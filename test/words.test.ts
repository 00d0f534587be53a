// How counts read next to their nouns: the one rule every message, report and summary uses.
import { describe, expect, it } from 'vitest';
import { counted, noun, unitAfter } from '../src/words.ts';

describe('counts and their nouns', () => {
  it('says one seat and two seats, grouping thousands, with the plural given where it is not an s', () => {
    expect([counted(1, 'seat'), counted(0, 'seat'), counted(2, 'seat'), counted(4000, 'seat')]).toEqual(['1 seat', '0 seats', '2 seats', '4,000 seats']);
    expect([counted(1, 'person', 'people'), counted(3, 'person', 'people')]).toEqual(['1 person', '3 people']);
    expect([noun(1, 'was', 'were'), noun(2, 'was', 'were'), noun(-1, 'credit'), noun(1.5, 'premium request')]).toEqual(['was', 'were', 'credit', 'premium requests']);
  });

  it("puts one of a tool's unit, named in the plural, in the singular, and leaves a name it cannot read as it is", () => {
    const one = (unit: string) => unitAfter(1, unit);
    expect(['credits', 'generative credits', 'AI credits', 'premium requests', 'queries', 'boxes', 'CREDITS'].map(one)).toEqual([
      'credit', 'generative credit', 'AI credit', 'premium request', 'query', 'box', 'CREDIT',
    ]);
    expect(['bonus', 'analysis', 'access', 'AI usage', 'credits (beta)', 'Go'].map(one)).toEqual(['bonus', 'analysis', 'access', 'AI usage', 'credits (beta)', 'Go']);
    expect([unitAfter(0, 'premium requests'), unitAfter(2, 'premium requests')]).toEqual(['premium requests', 'premium requests']);
  });
});
