import { z } from 'zod';
import { parseDuration, parseDurationList } from './duration';

/** A zod field that parses with `parse` and reports its error message as the field's problem. */
function parsed<T>(parse: (text: string) => T) {
  return z.string().transform((v, ctx) => {
    try {
      return parse(v);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
      return z.NEVER;
    }
  });
}

/** "30s", "15m", "24h", "7d", "P30D" → milliseconds. */
export const durationField = parsed(parseDuration);
/** Like durationField, and "0" means off (0 ms). */
export const durationOrOffField = parsed((v) => (v.trim() === '0' ? 0 : parseDuration(v)));
/** "72h,24h" → milliseconds, longest first. */
export const durationListField = parsed(parseDurationList);
