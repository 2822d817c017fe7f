import { z } from 'zod';
import type { ChannelName } from './channel';
import { PermanentChannelError } from './channel-errors';

/**
 * The sender's postal address, printed in every email's footer (CAN-SPAM and most mailbox
 * providers expect one in bulk email). Lines as written; no markup.
 */
const postalAddress = z
  .string()
  .trim()
  .min(1)
  .max(500)
  .refine((v) => !/\p{Cc}/u.test(v.replace(/\r?\n/g, '')), 'must be text lines without control characters');

/** `config` of an smtp sender account (snake_case, as on the wire). */
export const smtpAccountConfigSchema = z.strictObject({
  host: z.string().min(1).max(253),
  port: z.number().int().min(1).max(65535),
  /** TLS from the first byte (port 465); otherwise STARTTLS when offered (or required). */
  secure: z.boolean(),
  username: z.string().min(1).max(320),
  password: z.string().min(1).max(1024),
  /** The From header, e.g. `Team <team@example.com>`. */
  from: z.string().min(3).max(320),
  /** Refuse to send unless the server upgrades with STARTTLS. */
  require_tls: z.boolean().optional(),
  /** Verify the server certificate (default true; false only for test servers). */
  reject_unauthorized: z.boolean().optional(),
  postal_address: postalAddress.optional(),
});
export type SmtpAccountConfig = z.infer<typeof smtpAccountConfigSchema>;

/** `config` of a webhook sender account. */
export const webhookAccountConfigSchema = z.strictObject({
  url: z
    .string()
    .max(2048)
    .refine((value) => {
      try {
        const url = new URL(value);
        return (
          (url.protocol === 'https:' || url.protocol === 'http:') &&
          url.username === '' &&
          url.password === ''
        );
      } catch {
        return false;
      }
    }, 'must be an http(s) URL without credentials'),
  /** HMAC-SHA256 key for X-Herald-Signature. */
  secret: z.string().min(16).max(512),
  postal_address: postalAddress.optional(),
});
export type WebhookAccountConfig = z.infer<typeof webhookAccountConfigSchema>;

/** The dry-run channel needs nothing. */
export const dryRunAccountConfigSchema = z.strictObject({});
export type DryRunAccountConfig = z.infer<typeof dryRunAccountConfigSchema>;

/** Each channel's account config schema, for the API layer to validate `POST /v1/sender-accounts`. */
export const ACCOUNT_CONFIG_SCHEMAS = {
  smtp: smtpAccountConfigSchema,
  webhook: webhookAccountConfigSchema,
  'dry-run': dryRunAccountConfigSchema,
} as const satisfies Record<ChannelName, z.ZodType>;

/** Fields that are secret in each channel's config: encrypt them, never return them. */
export const SECRET_CONFIG_FIELDS: Record<ChannelName, readonly string[]> = {
  smtp: ['password'],
  webhook: ['secret'],
  'dry-run': [],
};

/** Validates a stored config at send time: a bad one is the account's fault, so permanent. */
export function parseAccountConfig<T>(schema: z.ZodType<T>, channel: ChannelName, config: unknown): T {
  const result = schema.safeParse(config);
  if (result.success) return result.data;
  const fields = result.error.issues.map((i) => i.path.join('.') || '(root)').join(', ');
  throw new PermanentChannelError(`invalid ${channel} account config: ${fields}`, 'invalid_config');
}
