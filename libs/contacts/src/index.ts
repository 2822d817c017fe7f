export {
  attributesSchema,
  birthDateSchema,
  CONTACT_STATUSES,
  contactCreateSchema,
  contactPatchSchema,
  contactStatusSchema,
  emailSchema,
  externalRefSchema,
  LIMITS as CONTACT_LIMITS,
  plainText,
  tagSchema,
  toChanges,
  type Attributes,
  type ContactChanges,
  type ContactCreateInput,
  type ContactFields,
  type ContactPatchInput,
  type ContactStatus,
} from './contact-fields';
export { birthdayKeys, likePrefix, type ContactFilter } from './contact-filter';
export { ContactsModule } from './contacts.module';
export {
  buildContactPageQuery,
  ContactsRepository,
  pageViews,
  type ContactRecord,
  type ContactViewRow,
} from './contacts.repository';
export { ContactsService } from './contacts.service';
export {
  ContactConflictError,
  ContactValidationError,
  ImportFormatError,
  SuppressionExistsError,
  UnknownContactError,
} from './errors';
export { isUuid, UUID_PATTERN, uuidv7, uuidv7Floor, uuidv7Time } from './ids';
export {
  findJsonTextProblem,
  jsonTextMessage,
  type JsonTextProblem,
  type JsonTextProblemKind,
} from './json-text';
export { ContactImporter, MAX_REPORTED_ERRORS, type ImportSummary } from './import/contact-importer';
export { CSV_COLUMNS, readCsv } from './import/csv-reader';
export type { ImportRowError, RawImportRow } from './import/import-row';
export { readJsonArray } from './import/json-array-reader';
export {
  buildInteractionPageQuery,
  INTERACTION_PAYLOADS,
  INTERACTION_TYPES,
  InteractionsRepository,
  InvalidInteractionPayloadError,
  validateInteractionPayload,
  type InteractionFilter,
  type InteractionPayload,
  type InteractionRecord,
  type InteractionType,
} from './interactions';
export {
  SUPPRESSION_REASONS,
  SuppressionsRepository,
  type SuppressionFilter,
  type SuppressionRecord,
  type SuppressionReason,
} from './suppressions';
export { fieldErrors, validate, type FieldError, type Validated } from './validation';
