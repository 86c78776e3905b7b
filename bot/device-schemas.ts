import { z } from 'zod';

/** The device routes' answers (api/routes/devices.ts, api/routes/device-rename.ts), checked at the boundary. */

export const deviceListSchema = z.object({
  devices: z.array(
    z
      .object({
        device_id: z.string(),
        name: z.string(),
        primary: z.boolean(),
        hwid: z.string().nullish(),
        os: z.string().nullish(),
        model: z.string().nullish(),
        created_at: z.string(),
      })
      .passthrough(),
  ),
  device_limit: z.number().nullable(),
});
export type DeviceList = z.infer<typeof deviceListSchema>;
export type Device = DeviceList['devices'][number];

export const deviceCreatedSchema = z.object({
  device_id: z.string(),
  vless_url: z.string(),
  qr_png_base64: z.string(),
});
export type DeviceCreated = z.infer<typeof deviceCreatedSchema>;

export const deviceRenamedSchema = z.object({ device_id: z.string(), name: z.string() });
export const deviceRemovedSchema = z.object({
  device_id: z.string(),
  removed: z.boolean(),
  applied: z.boolean(),
});
