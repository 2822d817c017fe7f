import { Foundation1763820000000 } from './1763820000000-Foundation';

/** Migrations in order. Generated ones are added here; a landed migration is never edited. */
export const MIGRATIONS = [Foundation1763820000000];
