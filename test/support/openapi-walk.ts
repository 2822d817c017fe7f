/** The operations of the served OpenAPI document, for tests that walk every route. */
export interface Operation {
  method: string;
  path: string;
  name: string;
  pathParams: string[];
  queryParams: string[];
  bodyExample: unknown;
  csvExample: string | undefined;
  /** The JSON body's shape, when the operation takes one: its top-level fields (of each element, for an array). */
  body: { array: boolean; fields: string[] } | undefined;
  /**
   * platform: the admin key only; operator: a tenant admin key or the platform key; tenant: tenant
   * keys only; public: no key asked first, the route checks what it is given (console sign-in).
   */
  access: 'platform' | 'operator' | 'tenant' | 'public';
}

interface JsonSchema {
  $ref?: string;
  type?: string;
  properties?: Record<string, unknown>;
  items?: JsonSchema;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  allOf?: JsonSchema[];
}

interface OpenApiDoc {
  paths: Record<
    string,
    Record<
      string,
      {
        parameters?: { name: string; in: string }[];
        requestBody?: { content: Record<string, { example?: unknown; schema?: JsonSchema }> };
        description?: string;
        'x-herald-access'?: string;
      }
    >
  >;
  components?: { schemas?: Record<string, JsonSchema> };
}

export function operationsOf(doc: OpenApiDoc, prefix = '/v1/'): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    if (!path.startsWith(prefix) || path.startsWith('/v1/system/')) continue;
    for (const [method, op] of Object.entries(item)) {
      const params = op.parameters ?? [];
      out.push({
        method: method.toUpperCase(),
        path,
        name: `${method.toUpperCase()} ${path}`,
        pathParams: params.filter((p) => p.in === 'path').map((p) => p.name),
        queryParams: params.filter((p) => p.in === 'query').map((p) => p.name),
        bodyExample: op.requestBody?.content['application/json']?.example,
        csvExample: op.requestBody?.content['text/csv']?.example as string | undefined,
        body: bodyShape(doc, op.requestBody?.content['application/json']?.schema),
        access: accessOf(op['x-herald-access'], op.description ?? ''),
      });
    }
  }
  return out;
}

export function fillPath(path: string, values: Record<string, string>): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(values[name] ?? ''));
}

function bodyShape(doc: OpenApiDoc, schema: JsonSchema | undefined): Operation['body'] {
  if (!schema) return undefined;
  const resolve = (s: JsonSchema): JsonSchema =>
    s.$ref ? (doc.components?.schemas?.[s.$ref.replace('#/components/schemas/', '')] ?? {}) : s;
  const fieldsOf = (s: JsonSchema): string[] => {
    const r = resolve(s);
    const branches = [...(r.oneOf ?? []), ...(r.anyOf ?? []), ...(r.allOf ?? [])];
    return [...Object.keys(r.properties ?? {}), ...branches.flatMap(fieldsOf)];
  };
  const top = resolve(schema);
  const array = top.type === 'array';
  return { array, fields: [...new Set(fieldsOf(array && top.items ? top.items : top))] };
}

function accessOf(declared: string | undefined, description: string): Operation['access'] {
  if (declared === 'public') return 'public';
  if (/or the platform admin key/.test(description)) return 'operator';
  return /platform admin key/.test(description) ? 'platform' : 'tenant';
}
