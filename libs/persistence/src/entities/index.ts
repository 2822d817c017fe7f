import { ApiKey, type ApiKeyScope } from './api-key.entity';
import { Contact, type ContactStatus } from './contact.entity';
import { IdempotencyKey } from './idempotency-key.entity';
import { Interaction, type InteractionType } from './interaction.entity';
import { Suppression, type SuppressionReason } from './suppression.entity';
import { SystemPing } from './system-ping.entity';
import { Tenant } from './tenant.entity';
import { QuotaReservation, QuotaUsage } from './quota-usage.entity';

export { SystemPing, Tenant };
export { ApiKey, Contact, IdempotencyKey, Interaction, Suppression };
export type { ApiKeyScope, ContactStatus, InteractionType, SuppressionReason };
export { QuotaReservation, QuotaUsage };

/** Every entity the data source knows; new aggregates are added here. */
export const ENTITIES = [
  Tenant,
  SystemPing,
  ApiKey,
  Contact,
  Interaction,
  Suppression,
  IdempotencyKey,
  QuotaUsage,
  QuotaReservation,
];
