import { applyDecorators } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import {
  ApiExtension,
  ApiOperation,
  ApiTags,
  DocumentBuilder,
  SwaggerModule,
  type OpenAPIObject,
} from '@nestjs/swagger';
import type { HeraldConfig } from '@herald/config';
import { DeclareAccess } from '@herald/telemetry';
import { z } from 'zod';
import type { Access } from './access';
import { PROBLEMS, PROBLEM_TYPE_BASE, type ProblemKind } from './problem';

type JsonSchema = Record<string, unknown>;

/** What one route promises: the OpenAPI operation is built from this (and the same zod schemas validate). */
export interface RouteDoc {
  id: string;
  summary: string;
  description: string;
  tag: string;
  access: Access;
  params?: z.ZodObject;
  query?: z.ZodObject;
  /** JSON body; `csv` adds a text/csv alternative. */
  body?: { schema: z.ZodType; example: unknown; csvExample?: string; description?: string };
  idempotent?: boolean;
  /** `csvExample`: the route also answers text/csv (Accept or ?format=csv). */
  success: {
    status: number;
    description: string;
    schema?: z.ZodType | string;
    example?: unknown;
    csvExample?: string;
  };
  /** Problems this route answers beyond those implied (400 for input, 401/403/429 for auth, 413/415 for bodies). */
  problems?: ProblemKind[];
}

const ROUTES = new Map<string, RouteDoc>();
const COMPONENTS = new Map<string, z.ZodType>();

/** A named schema under components.schemas; returns its name for RouteDoc.success.schema. */
export function component<S extends z.ZodType>(name: string, schema: S): S {
  COMPONENTS.set(name, schema);
  return schema;
}
const componentNames = new WeakMap<z.ZodType, string>();
export function named<S extends z.ZodType>(name: string, schema: S): S {
  componentNames.set(schema, name);
  return component(name, schema);
}

/**
 * Declares a route: its access (the one declaration the access guard reads) and its OpenAPI
 * operation; the id ties the Swagger operation to its RouteDoc.
 */
export function ApiRoute(doc: Omit<RouteDoc, 'id'> & { id: string }): MethodDecorator {
  if (ROUTES.has(doc.id)) throw new Error(`route doc ${doc.id} declared twice`);
  ROUTES.set(doc.id, doc);
  return applyDecorators(
    DeclareAccess(doc.access),
    ApiOperation({ summary: doc.summary, description: doc.description, operationId: doc.id }),
    ApiTags(doc.tag),
    ApiExtension('x-herald-route', doc.id),
  );
}

export const ProblemSchema = named(
  'Problem',
  z
    .object({
      type: z.string().meta({ description: 'Stable URI naming the kind of problem.' }),
      title: z.string(),
      status: z.number().int(),
      detail: z.string(),
      errors: z
        .array(z.object({ field: z.string(), message: z.string() }))
        .meta({ description: 'The fields that failed, when the problem is about specific fields.' }),
      request_id: z.string().meta({ description: 'Also in the X-Request-Id header; quote it to support.' }),
    })
    .meta({ description: 'RFC 9457 problem details (application/problem+json).' }),
);

const PROBLEM_EXAMPLES: Record<
  ProblemKind,
  { detail: string; errors?: { field: string; message: string }[] }
> = {
  'validation-failed': {
    detail: 'The request body is invalid.',
    errors: [{ field: 'email', message: 'must be an email address' }],
  },
  'malformed-json': {
    detail: 'The body is not valid JSON.',
    errors: [{ field: '', message: 'is not valid JSON' }],
  },
  'malformed-request': { detail: 'The request could not be read.' },
  unauthorized: { detail: 'Unknown API key.' },
  forbidden: { detail: 'This API key lacks the "write" scope this route needs.' },
  'not-found': { detail: 'No contact "0190f5e4-6a2b-7c3d-8e4f-5a6b7c8d9e0f".' },
  'method-not-allowed': { detail: 'PUT is not allowed on /v1/contacts; use GET, POST.' },
  'not-acceptable': { detail: 'This route answers application/json only.' },
  conflict: {
    detail: 'Another contact already has this email.',
    errors: [{ field: 'email', message: 'is taken by another contact' }],
  },
  'payload-too-large': { detail: 'The body is larger than the 1048576 bytes this route accepts.' },
  'request-timeout': { detail: 'The request body sent nothing for 30000 ms; send it without pausing.' },
  'unsupported-media-type': {
    detail: 'Send the body as application/json, not text/plain.',
    errors: [{ field: 'Content-Type', message: 'must be application/json' }],
  },
  'idempotency-key-reused': {
    detail: 'This Idempotency-Key was used for a different request; use a new key for a new request.',
    errors: [{ field: 'Idempotency-Key', message: 'was used with a different request body' }],
  },
  'rate-limited': { detail: 'This API key made too many requests: retry in 1 s (limit 100/s, burst 200).' },
  internal: { detail: 'An unexpected error occurred.' },
  unavailable: { detail: 'Authentication is unavailable right now; retry shortly.' },
};

/** zod → JSON Schema 2020-12 (OpenAPI 3.1), with local $defs hoisted into components. */
function toJsonSchema(
  schema: z.ZodType,
  io: 'input' | 'output',
  defs: Record<string, JsonSchema>,
  scope: string,
): JsonSchema {
  const name = componentNames.get(schema);
  if (name && io === 'output') return { $ref: `#/components/schemas/${name}` };
  const out = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
    reused: 'inline',
  }) as JsonSchema;
  delete out.$schema;
  const local = out.$defs as Record<string, JsonSchema> | undefined;
  delete out.$defs;
  const rename = (ref: string) => `#/components/schemas/${scope}_${ref.slice('#/$defs/'.length)}`;
  const rewrite = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(rewrite);
    if (node && typeof node === 'object') {
      return Object.fromEntries(
        Object.entries(node).map(([k, v]) => [
          k,
          k === '$ref' && typeof v === 'string' && v.startsWith('#/$defs/') ? rename(v) : rewrite(v),
        ]),
      );
    }
    return node;
  };
  for (const [key, value] of Object.entries(local ?? {}))
    defs[`${scope}_${key}`] = rewrite(value) as JsonSchema;
  return rewrite(out) as JsonSchema;
}

function problemResponse(kind: ProblemKind, extra: Record<string, unknown> = {}) {
  const { status, title } = PROBLEMS[kind];
  const ex = PROBLEM_EXAMPLES[kind];
  return {
    description: title,
    ...extra,
    content: {
      'application/problem+json': {
        schema: { $ref: '#/components/schemas/Problem' },
        example: {
          type: PROBLEM_TYPE_BASE + kind,
          title,
          status,
          detail: ex.detail,
          errors: ex.errors ?? [],
          request_id: '6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f',
        },
      },
    },
  };
}

const RATE_HEADERS = {
  'X-Request-Id': {
    description: 'The request id (the client’s when well formed).',
    schema: { type: 'string' },
  },
  'RateLimit-Limit': { description: 'Requests this key may burst.', schema: { type: 'integer' } },
  'RateLimit-Remaining': { description: 'Requests left in the bucket.', schema: { type: 'integer' } },
};

/** Builds the OpenAPI 3.1 document: Swagger's paths, completed from each route's RouteDoc. */
export function buildOpenApiDocument(app: INestApplication, config: HeraldConfig): OpenAPIObject {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setOpenAPIVersion('3.1.0')
      .setTitle('Herald API')
      .setDescription(
        [
          'Multi-tenant outreach automation. Every `/v1` route needs a key: `Authorization: Bearer <key>` or `X-API-Key: <key>`.',
          'Tenant keys have scopes `read`, `write` and `admin` (each includes the ones before it); the platform admin key creates tenants.',
          'Errors are RFC 9457 `application/problem+json`. Lists answer `{data, next_cursor}`: pass `next_cursor` back as `cursor`.',
          'POSTs that create accept `Idempotency-Key`: a retry with the same key and body replays the first response.',
          'The console signs in once (`POST /v1/sessions` with a key) and then sends the `herald_session` cookie instead of a key; a write made with the cookie must carry `X-CSRF-Token` (from the sign-in answer or `GET /v1/sessions/current`).',
        ].join('\n\n'),
      )
      .setVersion(config.app.version)
      .addBearerAuth(
        { type: 'http', scheme: 'bearer', description: 'A tenant API key (hk_…) or the platform admin key.' },
        'bearer',
      )
      .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' }, 'api-key')
      .build(),
  );
  const defs: Record<string, JsonSchema> = {};
  const schemas: Record<string, JsonSchema> = {};
  for (const [name, schema] of COMPONENTS) {
    componentNames.delete(schema);
    schemas[name] = toJsonSchema(schema, 'output', defs, name);
    componentNames.set(schema, name);
  }
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item as Record<string, Record<string, unknown>>)) {
      const id = operation['x-herald-route'];
      if (typeof id !== 'string') continue;
      const doc = ROUTES.get(id);
      if (!doc) throw new Error(`no RouteDoc ${id}`);
      (item as Record<string, unknown>)[method] = operationFor(doc, path, defs);
    }
  }
  document.components = { ...document.components, schemas: { ...schemas, ...defs } };
  return document;
}

function operationFor(
  doc: RouteDoc,
  path: string,
  defs: Record<string, JsonSchema>,
): Record<string, unknown> {
  const parameters: Record<string, unknown>[] = [];
  const addParams = (schema: z.ZodObject | undefined, where: 'path' | 'query') => {
    if (!schema) return;
    const json = toJsonSchema(schema, 'input', defs, doc.id.replace(/\W/g, '_'));
    const props = (json.properties ?? {}) as Record<string, JsonSchema>;
    const required = new Set((json.required as string[] | undefined) ?? []);
    for (const [name, prop] of Object.entries(props)) {
      const { description, examples, ...rest } = prop as {
        description?: string;
        examples?: unknown[];
      } & JsonSchema;
      parameters.push({
        name,
        in: where,
        required: where === 'path' || required.has(name),
        description,
        schema: rest,
        ...(examples?.length ? { example: examples[0] } : {}),
      });
    }
  };
  addParams(doc.params, 'path');
  addParams(doc.query, 'query');
  if (doc.idempotent) {
    parameters.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      description: `Makes a retry safe: the same key with the same body replays the first response (status and body) without running again; the same key with another body is a 422. Keys expire after the configured TTL.`,
      schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$' },
      example: '5d2b8f0e-1c3a-4e6f-9b7d-2a4c6e8f0a1b',
    });
  }
  const responses: Record<string, unknown> = {};
  const success = doc.success;
  const successSchema =
    success.schema === undefined
      ? undefined
      : typeof success.schema === 'string'
        ? { $ref: `#/components/schemas/${success.schema}` }
        : toJsonSchema(success.schema, 'output', defs, `${doc.id.replace(/\W/g, '_')}_response`);
  responses[String(success.status)] = {
    description: success.description,
    headers: {
      ...RATE_HEADERS,
      ...(doc.idempotent
        ? {
            'Idempotent-Replayed': {
              description: '`true` when this is a replayed response.',
              schema: { type: 'string' },
            },
          }
        : {}),
    },
    ...(successSchema
      ? {
          content: {
            'application/json': { schema: successSchema, example: success.example },
            ...(success.csvExample !== undefined
              ? { 'text/csv': { schema: { type: 'string' }, example: success.csvExample } }
              : {}),
          },
        }
      : {}),
  };
  const kinds = new Set<ProblemKind>(doc.problems ?? []);
  if (doc.params || doc.query || doc.body) kinds.add('validation-failed');
  kinds.add('unauthorized');
  kinds.add('forbidden');
  kinds.add('rate-limited');
  kinds.add('method-not-allowed');
  if (doc.params) kinds.add('not-found');
  if (doc.body) {
    kinds.add('malformed-json');
    kinds.add('payload-too-large');
    kinds.add('request-timeout');
    kinds.add('unsupported-media-type');
  }
  if (doc.idempotent) kinds.add('idempotency-key-reused');
  kinds.add('internal');
  for (const kind of kinds) {
    const status = String(PROBLEMS[kind].status);
    if (responses[status]) continue; // 400 has two kinds: the first listed documents it
    responses[status] = problemResponse(
      kind,
      kind === 'rate-limited'
        ? { headers: { 'Retry-After': { description: 'Seconds to wait.', schema: { type: 'integer' } } } }
        : {},
    );
  }
  const operation: Record<string, unknown> = {
    operationId: doc.id,
    summary: doc.summary,
    description: `${doc.description}\n\n**Access:** ${accessText(doc.access)}`,
    tags: [doc.tag],
    'x-herald-access': doc.access,
    security: doc.access === 'public' ? [] : [{ bearer: [] }, { 'api-key': [] }],
    parameters,
    responses,
  };
  if (doc.body) {
    const content: Record<string, unknown> = {
      'application/json': {
        schema: toJsonSchema(doc.body.schema, 'input', defs, `${doc.id.replace(/\W/g, '_')}_body`),
        example: doc.body.example,
      },
    };
    if (doc.body.csvExample !== undefined) {
      content['text/csv'] = {
        schema: {
          type: 'string',
          description: 'CSV with a header row (UTF-8; a BOM and CRLF line ends are fine).',
        },
        example: doc.body.csvExample,
      };
    }
    operation.requestBody = { required: true, description: doc.body.description, content };
  }
  void path;
  return operation;
}

function accessText(access: Access): string {
  if (access === 'public')
    return 'no key before the route: it checks the credential it is given (a key in the body, a one-time link, or the console session cookie).';
  if (access === 'platform') return 'the platform admin key (HERALD_ADMIN_KEY).';
  if (access === 'operator')
    return 'a tenant key with the `admin` scope (what concerns its own tenant), or the platform admin key (the whole fleet).';
  return `a tenant key with the \`${access}\` scope (or higher).`;
}

/** The RouteDocs known (for tests that walk every route). */
export function routeDocs(): ReadonlyMap<string, RouteDoc> {
  return ROUTES;
}
