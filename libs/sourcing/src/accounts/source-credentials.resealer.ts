import { SealedColumnResealer, type CredentialCipher } from '@herald/channels';
import type { DataSource } from 'typeorm';
import { sourceCredentialsContext } from './source-accounts.repository';

/** Source account credentials (directory keys, cookies, enrichment keys) re-sealed with the current key. */
export class SourceCredentialsResealer extends SealedColumnResealer {
  constructor(dataSource: DataSource, cipher: CredentialCipher) {
    super(dataSource, cipher, {
      name: 'source_credentials',
      table: 'source_accounts',
      column: 'credentials',
      context: sourceCredentialsContext,
    });
  }
}
