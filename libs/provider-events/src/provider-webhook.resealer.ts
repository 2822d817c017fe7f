import { SealedColumnResealer, type CredentialCipher, type TenantRowCursor } from '@herald/channels';
import type { DataSource } from 'typeorm';
import { webhookContext } from './provider-webhooks.repository';

export type ProviderWebhookCursor = TenantRowCursor;

/**
 * Sender accounts' provider webhook verification (`sender_accounts.provider_webhook`, null when
 * none is set) re-sealed with the current encryption key, like the credentials beside it.
 */
export class ProviderWebhookResealer extends SealedColumnResealer {
  constructor(dataSource: DataSource, cipher: CredentialCipher) {
    super(dataSource, cipher, {
      name: 'provider_webhooks',
      table: 'sender_accounts',
      column: 'provider_webhook',
      context: webhookContext,
    });
  }
}
