import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { KeysetPosition } from '@herald/persistence';
import type { DataSource, EntityManager } from 'typeorm';
import { z } from 'zod';
import { plainText } from './contact-fields';
import { UnknownContactError } from './errors';
import { uuidv7 } from './ids';
import { validate, type Validated } from './validation';

export const INTERACTION_TYPES = [
  'delivery_sent',
  'delivery_failed',
  'reply',
  'bounce',
  'unsubscribe',
  'note',
  'complaint',
] as const;
export type InteractionType = (typeof INTERACTION_TYPES)[number];

const id = z.uuid('must be a UUID');
const channel = z.enum(['smtp', 'webhook', 'dry-run'], { error: 'must be smtp, webhook or dry-run' });

/** The payload each interaction type carries. Writers (the api, the delivery engine) validate against these. */
export const INTERACTION_PAYLOADS = {
  delivery_sent: z.strictObject({
    delivery_id: id,
    campaign_id: id,
    run_id: id.nullable().optional(),
    channel,
    provider_message_id: plainText(500).nullable().optional(),
  }),
  delivery_failed: z.strictObject({
    delivery_id: id,
    campaign_id: id,
    run_id: id.nullable().optional(),
    channel,
    error: plainText(1000),
    permanent: z.boolean(),
  }),
  reply: z.strictObject({
    delivery_id: id.nullable().optional(),
    subject: plainText(998).optional(),
    text: z.string().max(20_000, 'must be at most 20000 characters').optional(),
    received_at: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' }).optional(),
  }),
  bounce: z.strictObject({
    delivery_id: id.nullable().optional(),
    kind: z.enum(['hard', 'soft'], { error: 'must be hard or soft' }),
    reason: plainText(1000).optional(),
  }),
  unsubscribe: z.strictObject({
    delivery_id: id.nullable().optional(),
    source: z.enum(['link', 'reply', 'api', 'manual'], { error: 'must be link, reply, api or manual' }),
  }),
  // A spam report (a provider's feedback loop): the address is suppressed like an unsubscribe.
  complaint: z.strictObject({
    delivery_id: id.nullable().optional(),
    source: plainText(40),
    feedback_type: plainText(100).optional(),
  }),
  note: z.strictObject({
    text: z.string().trim().min(1, 'must not be empty').max(5000, 'must be at most 5000 characters'),
  }),
} as const satisfies Record<InteractionType, z.ZodType>;

export type InteractionPayload<T extends InteractionType = InteractionType> = z.output<
  (typeof INTERACTION_PAYLOADS)[T]
>;

export function validateInteractionPayload(
  type: InteractionType,
  payload: unknown,
): Validated<Record<string, unknown>> {
  return validate(INTERACTION_PAYLOADS[type], payload);
}

export interface InteractionRecord {
  id: string;
  tenantId: string;
  contactId: string;
  type: InteractionType;
  payload: Record<string, unknown>;
  createdAt: Date;
}

export interface InteractionFilter {
  contactId?: string;
  type?: InteractionType;
  /** created_at ≥ from and < to. */
  from?: Date;
  to?: Date;
}

interface InteractionRow {
  id: string;
  tenant_id: string;
  contact_id: string;
  type: InteractionType;
  payload: Record<string, unknown>;
  created_at: Date;
}

export class InvalidInteractionPayloadError extends Error {
  constructor(readonly errors: { field: string; message: string }[]) {
    super('invalid interaction payload');
    this.name = 'InvalidInteractionPayloadError';
  }
}

@Injectable()
export class InteractionsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Validates the payload for its type; throws UnknownContactError when the contact is not the tenant's. */
  async record(
    manager: EntityManager,
    tenantId: string,
    input: { contactId: string; type: InteractionType; payload: unknown },
  ): Promise<InteractionRecord> {
    const checked = validateInteractionPayload(input.type, input.payload);
    if (!checked.ok)
      throw new InvalidInteractionPayloadError(
        checked.errors.map((e) => ({ ...e, field: e.field ? `payload.${e.field}` : 'payload' })),
      );
    try {
      const rows = await manager.query<InteractionRow[]>(
        `INSERT INTO interactions (tenant_id, id, contact_id, type, payload) VALUES ($1, $2, $3, $4, $5)
         RETURNING id, tenant_id, contact_id, type, payload, created_at`,
        [tenantId, uuidv7(), input.contactId, input.type, JSON.stringify(checked.value)],
      );
      return toInteraction(rows[0]!);
    } catch (error) {
      const e = error as { code?: string; driverError?: { code?: string } };
      if ((e.driverError?.code ?? e.code) === '23503') throw new UnknownContactError('contact_id');
      throw error;
    }
  }

  /** Newest first, keyset on (created_at, id) descending. */
  async page(
    tenantId: string,
    filter: InteractionFilter,
    before: KeysetPosition | null,
    limit: number,
  ): Promise<InteractionRecord[]> {
    const { sql, params } = buildInteractionPageQuery(tenantId, filter, before, limit);
    const rows = await this.dataSource.query<InteractionRow[]>(sql, params);
    return rows.map(toInteraction);
  }
}

/** The SQL behind InteractionsRepository.page (exported for the index-use tests). */
export function buildInteractionPageQuery(
  tenantId: string,
  filter: InteractionFilter,
  before: KeysetPosition | null,
  limit: number,
): { sql: string; params: unknown[] } {
  const params: unknown[] = [tenantId];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  const where = ['tenant_id = $1'];
  if (filter.contactId) where.push(`contact_id = ${param(filter.contactId)}::uuid`);
  if (filter.type) where.push(`type = ${param(filter.type)}`);
  if (filter.from) where.push(`created_at >= ${param(filter.from.toISOString())}::timestamptz`);
  if (filter.to) where.push(`created_at < ${param(filter.to.toISOString())}::timestamptz`);
  if (before) {
    where.push(
      `(created_at, id) < (${param(before.createdAt.toISOString())}::timestamptz, ${param(before.id)}::uuid)`,
    );
  }
  return {
    sql: `SELECT id, tenant_id, contact_id, type, payload, created_at FROM interactions
       WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT ${param(limit)}`,
    params,
  };
}

function toInteraction(row: InteractionRow): InteractionRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    contactId: row.contact_id,
    type: row.type,
    payload: row.payload,
    createdAt: row.created_at,
  };
}
