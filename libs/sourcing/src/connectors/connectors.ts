import type { SourceKind } from '../accounts/source-account';
import type { SourceConnector } from './connector';
import { CsvConnector } from './csv.connector';
import { HttpDirectoryConnector } from './http-directory.connector';
import { ProfileVisitConnector } from './profile-visit.connector';

/** Kinds a sourcing job can search with (an enrichment account only answers lookups). */
export const SEARCH_KINDS = ['http-directory', 'profile-visit', 'csv'] as const;
export type SearchKind = (typeof SEARCH_KINDS)[number];

export const CONNECTORS: { readonly [K in SearchKind]: SourceConnector<K> } = {
  'http-directory': new HttpDirectoryConnector(),
  'profile-visit': new ProfileVisitConnector(),
  csv: new CsvConnector(),
};

export function isSearchKind(kind: SourceKind): kind is SearchKind {
  return (SEARCH_KINDS as readonly string[]).includes(kind);
}

export function connectorFor<K extends SearchKind>(kind: K): SourceConnector<K> {
  return CONNECTORS[kind];
}
