import { z } from 'zod';
import { invalidField } from './errors';

const bytes = z.number().int().positive('must be a positive number of bytes').max(Number.MAX_SAFE_INTEGER);
const locationName = z.string().min(1).max(64);

/** Plan limits a tariff may carry (contract v2); every one is optional and nullable = no limit. */
export const planLimitFields = {
  traffic_limit_bytes: bytes.nullable().optional().describe('bytes per traffic period; null = unlimited'),
  traffic_reset: z
    .enum(['never', 'monthly', 'period'])
    .optional()
    .describe(
      'when the used traffic starts again from 0: never, each month of the access, or at each renewal',
    ),
  device_limit: z
    .number()
    .int()
    .min(1)
    .max(100)
    .nullable()
    .optional()
    .describe('devices (keys) per access, the first key included; null = unlimited'),
  locations: z
    .array(locationName)
    .max(20)
    .optional()
    .describe('node locations the access gets an entry in; empty = any one node'),
  kind: z.enum(['subscription', 'traffic_pack']).optional(),
  traffic_pack_bytes: bytes
    .nullable()
    .optional()
    .describe('bytes a traffic_pack tariff adds; required for that kind'),
};

interface PlanLimitInput {
  location?: string | null;
  locations?: string[];
  traffic_limit_bytes?: number | null;
  traffic_reset?: string;
  device_limit?: number | null;
  kind?: string;
  traffic_pack_bytes?: number | null;
}

/**
 * Column values for the limit fields present. `location` (v1) and `locations` (v2) describe the same
 * thing: `location` is kept equal to the first of `locations`, so code that reads either agrees.
 */
export function planLimitColumns(body: PlanLimitInput): Record<string, unknown> {
  let locations: string[] | undefined = body.locations?.map((l) => l.trim()).filter(Boolean);
  let location: string | null | undefined = body.location;
  if (locations !== undefined) {
    const unique = [...new Set(locations.map((l) => l.toLowerCase()))];
    if (unique.length !== locations.length) throw invalidField('locations', 'a location is listed twice');
    if (location !== undefined && (location ?? null) !== (locations[0] ?? null))
      throw invalidField('location', 'must equal the first of locations (or be left out)');
    location = locations[0] ?? null;
  } else if (location !== undefined) {
    locations = location === null ? [] : [location];
  }
  if (body.kind === 'traffic_pack' && body.traffic_pack_bytes === undefined)
    throw invalidField('traffic_pack_bytes', 'a traffic_pack tariff needs traffic_pack_bytes');
  if (
    body.kind === 'subscription' &&
    body.traffic_pack_bytes !== undefined &&
    body.traffic_pack_bytes !== null
  )
    throw invalidField('traffic_pack_bytes', 'only a traffic_pack tariff adds bytes');
  return {
    location,
    locations,
    traffic_limit_bytes: body.traffic_limit_bytes,
    traffic_reset: body.traffic_reset,
    device_limit: body.device_limit,
    kind: body.kind,
    // Switching back to a subscription clears the pack size, so the shape check holds.
    traffic_pack_bytes: body.kind === 'subscription' ? null : body.traffic_pack_bytes,
  };
}
