import { SealedColumnResealer, type CredentialCipher, type TenantRowCursor } from '@herald/channels';
import type { DataSource } from 'typeorm';
import { credentialsContext } from './sender-accounts.repository';

export type SenderAccountCursor = TenantRowCursor;

/** Sender account credentials re-sealed with the current encryption key (see SealedColumnResealer). */
export class SenderCredentialsResealer extends SealedColumnResealer {
  constructor(dataSource: DataSource, cipher: CredentialCipher) {
    super(dataSource, cipher, {
      name: 'sender_credentials',
      table: 'sender_accounts',
      column: 'credentials',
      context: credentialsContext,
    });
  }
}
