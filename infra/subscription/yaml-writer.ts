// A small block-style YAML writer: production has no YAML dependency, and Clash profiles are plain maps,
// lists and scalars. Strings are written as JSON strings, which YAML 1.2 reads as double-quoted scalars.

export type YamlValue = string | number | boolean | null | YamlValue[] | { [key: string]: YamlValue };

const PLAIN_KEY = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

function scalar(value: string | number | boolean | null): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' && !Number.isFinite(value)) throw new Error(`not a YAML number: ${value}`);
  return String(value);
}

const key = (k: string) => (PLAIN_KEY.test(k) ? k : JSON.stringify(k));
const isBlock = (v: YamlValue) =>
  Array.isArray(v) ? v.length > 0 : typeof v === 'object' && v !== null && Object.keys(v).length > 0;
const empty = (v: YamlValue) => (Array.isArray(v) ? '[]' : '{}');

function lines(value: YamlValue, indent: string): string[] {
  if (Array.isArray(value)) {
    return value.flatMap((item) => {
      if (!isBlock(item)) {
        return [`${indent}- ${typeof item === 'object' && item !== null ? empty(item) : scalar(item)}`];
      }
      const inner = lines(item, `${indent}  `);
      return [`${indent}- ${inner[0].slice(indent.length + 2)}`, ...inner.slice(1)];
    });
  }
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([k, v]) => {
      if (isBlock(v)) return [`${indent}${key(k)}:`, ...lines(v, `${indent}  `)];
      return [`${indent}${key(k)}: ${typeof v === 'object' && v !== null ? empty(v) : scalar(v)}`];
    });
  }
  return [`${indent}${scalar(value)}`];
}

export function toYaml(value: YamlValue): string {
  return `${lines(value, '').join('\n')}\n`;
}
