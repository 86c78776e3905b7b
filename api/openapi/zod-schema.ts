import { type ZodTypeAny, z } from 'zod';

/** An OpenAPI 3.0 Schema Object (the subset our zod schemas produce). */
export type SchemaObject = Record<string, unknown>;

/**
 * The request side of a zod schema as an OpenAPI 3.0 schema: what a client may send. Transforms are
 * described by their input; refinements are left to the `description`.
 */
export function toOpenApiSchema(schema: ZodTypeAny): SchemaObject {
  const out = convert(schema);
  if (schema.description && !out.description) out.description = schema.description;
  return out;
}

/** True when an object property may be left out. */
export function isOptional(schema: ZodTypeAny): boolean {
  return schema.isOptional();
}

function convert(schema: ZodTypeAny): SchemaObject {
  const def = schema._def;
  if (schema instanceof z.ZodString) return stringSchema(schema);
  if (schema instanceof z.ZodNumber) return numberSchema(schema);
  if (schema instanceof z.ZodBoolean) return { type: 'boolean' };
  if (schema instanceof z.ZodDate) return { type: 'string', format: 'date-time' };
  if (schema instanceof z.ZodEnum) return { type: 'string', enum: [...def.values] };
  if (schema instanceof z.ZodLiteral) return { type: typeof def.value, enum: [def.value] };
  if (schema instanceof z.ZodNull) return { nullable: true };
  if (schema instanceof z.ZodObject) return objectSchema(schema);
  if (schema instanceof z.ZodArray) return { type: 'array', items: toOpenApiSchema(def.type) };
  if (schema instanceof z.ZodRecord)
    return { type: 'object', additionalProperties: toOpenApiSchema(def.valueType) };
  if (schema instanceof z.ZodUnion) return { oneOf: def.options.map(toOpenApiSchema) };
  if (schema instanceof z.ZodOptional) return toOpenApiSchema(def.innerType);
  if (schema instanceof z.ZodNullable) return { ...toOpenApiSchema(def.innerType), nullable: true };
  if (schema instanceof z.ZodDefault)
    return { ...toOpenApiSchema(def.innerType), default: def.defaultValue() };
  if (schema instanceof z.ZodEffects) return toOpenApiSchema(def.schema);
  if (schema instanceof z.ZodPipeline) return toOpenApiSchema(def.in);
  if (schema instanceof z.ZodBranded || schema instanceof z.ZodReadonly)
    return toOpenApiSchema(def.type ?? def.innerType);
  return {};
}

function stringSchema(schema: z.ZodString): SchemaObject {
  const out: SchemaObject = { type: 'string' };
  for (const check of schema._def.checks) {
    if (check.kind === 'uuid') out.format = 'uuid';
    else if (check.kind === 'url') out.format = 'uri';
    else if (check.kind === 'datetime') out.format = 'date-time';
    else if (check.kind === 'regex') out.pattern = check.regex.source;
    else if (check.kind === 'min') out.minLength = check.value;
    else if (check.kind === 'max') out.maxLength = check.value;
    else if (check.kind === 'length') Object.assign(out, { minLength: check.value, maxLength: check.value });
  }
  return out;
}

/** The edge refuses numbers past ±2^53 (route-table.ts); unbounded schemas say so. */
const NUMBER_LIMIT = Number.MAX_SAFE_INTEGER;

function numberSchema(schema: z.ZodNumber): SchemaObject {
  const out: SchemaObject = { type: 'number', minimum: -NUMBER_LIMIT, maximum: NUMBER_LIMIT };
  for (const check of schema._def.checks) {
    if (check.kind === 'int') out.type = 'integer';
    else if (check.kind === 'min')
      Object.assign(out, { minimum: check.value, exclusiveMinimum: !check.inclusive });
    else if (check.kind === 'max')
      Object.assign(out, { maximum: check.value, exclusiveMaximum: !check.inclusive });
  }
  return out;
}

function objectSchema(schema: z.AnyZodObject): SchemaObject {
  const properties: Record<string, SchemaObject> = {};
  const required: string[] = [];
  for (const [key, value] of Object.entries(schema.shape as Record<string, ZodTypeAny>)) {
    properties[key] = toOpenApiSchema(value);
    if (!isOptional(value)) required.push(key);
  }
  const out: SchemaObject = { type: 'object', properties };
  if (required.length) out.required = required;
  return out;
}
