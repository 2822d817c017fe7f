import fc from 'fast-check';
import { createTestDatabase, type TestDatabase } from '@herald/testing';
import { Client } from 'pg';
import { normaliseEmail } from '../src/dedupe/normalise';

/**
 * Contacts are matched by the SQL function `sourcing_email_key` (indexed), candidates by
 * `normaliseEmail`: both must give the same key for every ASCII email a contact can hold.
 */
describe('sourcing_email_key agrees with normaliseEmail', () => {
  let database: TestDatabase;
  let client: Client;
  beforeAll(async () => {
    database = await createTestDatabase();
    client = new Client({ connectionString: database.url });
    await client.connect();
  });
  afterAll(async () => {
    await client.end();
    await database.drop();
  });

  const sqlKeys = async (emails: string[]) =>
    (
      await client.query<{ key: string | null }>(
        `SELECT sourcing_email_key(e) AS key FROM unnest($1::text[]) WITH ORDINALITY AS t (e, i) ORDER BY i`,
        [emails],
      )
    ).rows.map((r) => r.key ?? undefined);

  it('on tricky cases', async () => {
    const emails = [
      'Ada+news@Example.COM',
      'a.d.a+x@googlemail.com',
      'A.D.A@gmail.com',
      'a.d.a@example.com',
      'a@b@c',
      'x',
    ];
    expect(await sqlKeys(emails)).toEqual(emails.map(normaliseEmail));
  });

  it('on generated emails, with tags and case', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.tuple(fc.emailAddress(), fc.boolean(), fc.boolean()).map(([email, upper, tag]) => {
            const [local, domain] = email.split('@') as [string, string];
            const withTag = tag ? `${local}+t@${domain}` : email;
            return upper ? withTag.toUpperCase() : withTag;
          }),
          { minLength: 1, maxLength: 50 },
        ),
        async (emails) => {
          expect(await sqlKeys(emails)).toEqual(emails.map(normaliseEmail));
        },
      ),
      { numRuns: 30 },
    );
  });
});
