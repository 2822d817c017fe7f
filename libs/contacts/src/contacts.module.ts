import { Module } from '@nestjs/common';
import { PersistenceModule } from '@herald/persistence';
import { ContactsRepository } from './contacts.repository';
import { ContactsService } from './contacts.service';
import { ContactImporter } from './import/contact-importer';
import { InteractionsRepository } from './interactions';
import { SuppressionsRepository } from './suppressions';

/** Contacts, their import, interactions and suppressions. */
@Module({
  imports: [PersistenceModule],
  providers: [
    ContactsRepository,
    ContactsService,
    ContactImporter,
    InteractionsRepository,
    SuppressionsRepository,
  ],
  exports: [
    ContactsRepository,
    ContactsService,
    ContactImporter,
    InteractionsRepository,
    SuppressionsRepository,
  ],
})
export class ContactsModule {}
