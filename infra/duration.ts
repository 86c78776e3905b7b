/** Parses operator durations: "30s", "15m", "24h", "7d", "1h30m", or ISO-8601 like "P30D", "PT1H", "PT2M". */
export function parseDuration(text: string): number {
  const value = text.trim();
  const iso = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/i.exec(value);
  if (iso && value.length > 1 && value.toUpperCase() !== 'PT') {
    const [, d, h, m, s] = iso.map((v) => Number(v ?? 0));
    const ms = (((d * 24 + h) * 60 + m) * 60 + s) * 1000;
    if (ms > 0) return ms;
  }
  const parts = [...value.matchAll(/(\d+)\s*(ms|s|m|h|d)/g)];
  const joined = parts.map((p) => p[0]).join('');
  if (parts.length === 0 || joined.replace(/\s/g, '') !== value.replace(/\s/g, '')) {
    throw new Error(`"${text}" is not a duration (use e.g. 30s, 15m, 24h, 7d or P30D)`);
  }
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  const ms = parts.reduce((sum, p) => sum + Number(p[1]) * unit[p[2]], 0);
  if (ms <= 0) throw new Error(`"${text}" must be longer than zero`);
  return ms;
}

/** A list like "72h,24h", longest first, duplicates removed. */
export function parseDurationList(text: string): number[] {
  const list = text.split(',').map((p) => parseDuration(p));
  return [...new Set(list)].sort((a, b) => b - a);
}
