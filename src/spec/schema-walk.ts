import type * as z from 'zod';

/** The part of zod's schema definitions this walk reads; zod's core `def` is its stable introspection surface. */
interface SchemaDef {
  type: string;
  innerType?: z.core.$ZodType;
  in?: z.core.$ZodType;
  shape?: Record<string, z.core.$ZodType>;
  valueType?: z.core.$ZodType;
  options?: readonly z.core.$ZodType[];
  entries?: Record<string, string | number>;
  checks?: readonly { _zod: { def: CheckDef } }[];
}

/** A check's definition: bounds, lengths and formats. */
export interface CheckDef {
  check: string;
  value?: number;
  inclusive?: boolean;
  minimum?: number;
  maximum?: number;
  format?: string;
}

export function defOf(schema: z.core.$ZodType): SchemaDef {
  return schema._zod.def as unknown as SchemaDef;
}

/** The schema without the wrappers that do not change what a value must look like (default, optional, pipe). */
export function unwrapSchema(schema: z.core.$ZodType): z.core.$ZodType {
  let current = schema;
  for (let depth = 0; depth < 20; depth += 1) {
    const def = defOf(current);
    const inner = def.innerType ?? (def.type === 'pipe' ? def.in : undefined);
    if (!inner) return current;
    current = inner;
  }
  return current;
}

/** The schema a value at `path` is checked against, or undefined when the path leaves the schema. */
export function schemaAtPath(root: z.core.$ZodType, path: readonly (string | number)[]): z.core.$ZodType | undefined {
  let current: z.core.$ZodType | undefined = unwrapSchema(root);
  for (const segment of path) {
    if (!current) return undefined;
    current = childSchema(current, String(segment));
  }
  return current;
}

function childSchema(schema: z.core.$ZodType, key: string): z.core.$ZodType | undefined {
  const def = defOf(unwrapSchema(schema));
  if (def.type === 'object') return def.shape?.[key] ? unwrapSchema(def.shape[key]) : undefined;
  if (def.type === 'record' && def.valueType) return unwrapSchema(def.valueType);
  if (def.type === 'union') {
    for (const option of def.options ?? []) {
      const child = childSchema(option, key);
      if (child) return child;
    }
  }
  return undefined;
}

/** The keys a mapping at `path` may hold, for "did you mean"; empty where any key goes (records) or none does. */
export function knownKeysAt(root: z.core.$ZodType, path: readonly (string | number)[]): string[] {
  const schema = schemaAtPath(root, path);
  if (!schema) return [];
  const def = defOf(schema);
  if (def.type === 'object') return Object.keys(def.shape ?? {});
  if (def.type === 'union') {
    const objectOption = (def.options ?? [])
      .map((option) => defOf(unwrapSchema(option)))
      .find((d) => d.type === 'object');
    return Object.keys(objectOption?.shape ?? {});
  }
  return [];
}

/** Whether a missing value at `path` is an error: the field has no default and is not optional. */
export function isRequiredAt(root: z.core.$ZodType, path: readonly (string | number)[]): boolean {
  const parent = schemaAtPath(root, path.slice(0, -1));
  const last = path[path.length - 1];
  if (!parent || last === undefined) return false;
  const parentDef = defOf(parent);
  const shapes =
    parentDef.type === 'union' ? (parentDef.options ?? []).map((option) => defOf(unwrapSchema(option))) : [parentDef];
  const field = shapes.map((def) => def.shape?.[String(last)]).find((candidate) => candidate !== undefined);
  if (!field) return false;
  const type = defOf(field).type;
  return type !== 'default' && type !== 'optional' && type !== 'prefault';
}
