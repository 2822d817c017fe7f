import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import {
  ApiProblem,
  campaignsCreate,
  contactsImport,
  enrollmentsCreate,
  keyClient,
  runsStart,
  senderAccountsCreate,
  senderAccountsList,
  tenantsCreate,
  unwrap,
  type Client,
} from '@herald/api-client';
import { demoContacts } from './demo-contacts';
import { seedDemoSourcing } from './demo-sourcing';

export const DEMO_TENANT = { name: 'Demo', time_zone: 'Europe/Paris' } as const;
/** Hourly quotas of the demo sender accounts: low enough that a big broadcast visibly defers. */
export const DEMO_QUOTAS = { smtp: 4000, webhook: 3000 } as const;
export const BIRTHDAY_AT = '09:00';
/** Seconds each sequence step waits after the previous one: steps at +0, +1 min, +2 min. */
export const SEQUENCE_DELAYS = [0, 60, 60] as const;

/**
 * What the demo seed has done so far, kept in `<data>/demo.json` after every step: a restart
 * resumes from it and never creates a thing twice (each create also carries an Idempotency-Key
 * derived from `seed_id`, for a crash between the API's answer and this file's write).
 */
export interface DemoState {
  version: 1;
  seed_id: string;
  /** When the seed began: the contact generator's "today" (birthdays), so a resume is identical. */
  seeded_on: string;
  contacts: number;
  smtp: { port: number; username: string; password: string };
  webhook: { port: number; secret: string };
  tenant?: { id: string; name: string; time_zone: string; api_key: string };
  accounts: { smtp?: string; webhook?: string };
  imported?: { created: number; updated: number; failed: number };
  campaigns: { broadcast?: string; birthday?: string; sequence?: string };
  runs: { broadcast?: string; birthday?: string };
  enrollments?: { enrolled: number; already_enrolled: number; not_found: string[] };
  /** The dev directory (scripts/dev/demo-sourcing.ts): where it listens and the key it wants. */
  directory?: { port: number; api_key: string; profiles_port: number; sites_port: number };
  /** The dev enrichment API (libs/testing/src/fake-world/enrichment.ts) qualifying looks leads up in. */
  enrichment?: { port: number; api_key: string };
  sourcing?: { account?: string; enrichment?: string; model?: string; job?: string; run?: string };
  /** Set once every step is done. */
  completed_at?: string;
}

export function readDemoState(file: string): DemoState | undefined {
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as DemoState;
}

export function writeDemoState(file: string, state: DemoState): void {
  writeFileSync(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

export function newDemoState(contacts: number, ports: { smtp: number; webhook: number }): DemoState {
  return {
    version: 1,
    seed_id: randomBytes(6).toString('hex'),
    seeded_on: new Date().toISOString(),
    contacts,
    smtp: { port: ports.smtp, username: 'demo', password: randomBytes(12).toString('hex') },
    webhook: { port: ports.webhook, secret: `whsec_dev_${randomBytes(24).toString('hex')}` },
    accounts: {},
    campaigns: {},
    runs: {},
  };
}

/** Something the demo could not do yet (a feature the API does not offer): said, retried next start. */
export interface SeedGap {
  what: string;
  why: string;
}

/**
 * Seeds the demo tenant through the public API, step by step, saving `state` after each one.
 * Returns what it could not do (for features not there yet); throws on anything unexpected.
 */
export async function seedDemo(options: {
  admin: Client;
  state: DemoState;
  stateFile: string;
  webhookUrl: string;
  say: (line: string) => void;
}): Promise<SeedGap[]> {
  const { admin, state, stateFile, say } = options;
  const save = () => writeDemoState(stateFile, state);
  const key = (step: string) => `herald-demo-${state.seed_id}-${step}`;
  const gaps: SeedGap[] = [];

  if (!state.tenant) {
    const body = await unwrap(
      tenantsCreate({ client: admin, body: DEMO_TENANT, headers: { 'Idempotency-Key': key('tenant') } }),
    );
    state.tenant = { id: body.id, name: body.name, time_zone: body.time_zone, api_key: body.api_key.key };
    save();
    say(`demo tenant "${body.name}" (${body.time_zone}) created, id ${body.id}`);
  }
  const api = keyClient(baseUrlOf(admin), state.tenant.api_key);

  if (!state.accounts.smtp) {
    const body = await unwrap(
      senderAccountsCreate({
        client: api,
        headers: { 'Idempotency-Key': key('smtp-account') },
        body: {
          name: 'Demo mail (dev SMTP sink)',
          channel: 'smtp',
          config: {
            host: '127.0.0.1',
            port: state.smtp.port,
            secure: false,
            username: state.smtp.username,
            password: state.smtp.password,
            from: 'Demo <hello@demo.example.com>',
            reject_unauthorized: false,
          },
          quotas: { hourly: DEMO_QUOTAS.smtp },
        },
      }),
    );
    state.accounts.smtp = body.id;
    save();
  }
  if (!state.accounts.webhook) {
    const body = await unwrap(
      senderAccountsCreate({
        client: api,
        headers: { 'Idempotency-Key': key('webhook-account') },
        body: {
          name: 'Demo webhook (dev webhook sink)',
          channel: 'webhook',
          config: { url: options.webhookUrl, secret: state.webhook.secret },
          quotas: { hourly: DEMO_QUOTAS.webhook },
        },
      }),
    );
    state.accounts.webhook = body.id;
    save();
    say(
      `sender accounts: smtp → dev mail sink (${DEMO_QUOTAS.smtp}/hour), webhook → dev webhook sink (${DEMO_QUOTAS.webhook}/hour)`,
    );
  }

  if (!state.imported) {
    const started = performance.now();
    const rows = demoContacts(state.contacts, new Date(state.seeded_on));
    const body = await unwrap(
      contactsImport({
        client: api,
        body: rows,
        headers: { 'Idempotency-Key': key('contacts') },
        signal: AbortSignal.timeout(300_000),
      }),
    );
    state.imported = { created: body.created, updated: body.updated, failed: body.failed };
    save();
    say(
      `imported ${body.created + body.updated} contacts in ${((performance.now() - started) / 1000).toFixed(1)} s (POST /v1/contacts/import${body.failed ? `, ${body.failed} failed` : ''})`,
    );
  }

  if (!state.campaigns.broadcast) {
    const body = await unwrap(
      campaignsCreate({
        client: api,
        headers: { 'Idempotency-Key': key('broadcast') },
        body: {
          name: 'Spring product update',
          kind: 'broadcast',
          sender_account_id: state.accounts.smtp,
          audience: { tags: ['newsletter'] },
          steps: [
            {
              subject: 'What’s new this spring, {{ first_name | "friend" }}',
              body: 'Hello {{ first_name | "there" }},\n\nHere is what changed in Demo this month: faster exports, a new calendar view and fewer clicks everywhere.\n\n— The Demo team',
            },
          ],
        },
      }),
    );
    state.campaigns.broadcast = body.id;
    save();
  }
  if (!state.campaigns.birthday) {
    const body = await unwrap(
      campaignsCreate({
        client: api,
        headers: { 'Idempotency-Key': key('birthday') },
        body: {
          name: 'Happy birthday',
          kind: 'birthday',
          sender_account_id: state.accounts.webhook,
          schedule: { at: BIRTHDAY_AT },
          steps: [
            {
              subject: 'Happy birthday, {{ first_name | "friend" }}!',
              body: 'Happy birthday {{ first_name | "" }}! Everyone at Demo wishes you a wonderful day.',
            },
          ],
        },
      }),
    );
    state.campaigns.birthday = body.id;
    save();
  }
  if (!state.campaigns.sequence) {
    const body = await unwrap(
      campaignsCreate({
        client: api,
        headers: { 'Idempotency-Key': key('sequence') },
        body: {
          name: 'Trial onboarding',
          kind: 'sequence',
          sender_account_id: state.accounts.webhook,
          steps: [
            {
              delay: SEQUENCE_DELAYS[0],
              subject: 'Welcome to your trial, {{ first_name | "friend" }} (1/3)',
              body: 'Welcome aboard! Start by importing your contacts.',
            },
            {
              delay: SEQUENCE_DELAYS[1],
              subject: 'Your first campaign (2/3)',
              body: 'Next: create a campaign and send yourself a test.',
            },
            {
              delay: SEQUENCE_DELAYS[2],
              subject: 'Need a hand, {{ first_name | "friend" }}? (3/3)',
              body: 'Reply to this message and a human answers.',
            },
          ],
        },
      }),
    );
    state.campaigns.sequence = body.id;
    save();
    say(
      'campaigns: "Spring product update" (broadcast), "Happy birthday" (daily), "Trial onboarding" (sequence)',
    );
  }

  if (!state.runs.broadcast) {
    const body = await unwrap(
      runsStart({
        client: api,
        path: { id: state.campaigns.broadcast },
        body: {},
        headers: { 'Idempotency-Key': key('broadcast-run') },
      }),
    );
    state.runs.broadcast = body.id;
    save();
    say(`broadcast run ${body.id} started`);
  }
  if (!state.runs.birthday) {
    try {
      const body = await unwrap(
        runsStart({
          client: api,
          path: { id: state.campaigns.birthday },
          body: {},
          headers: { 'Idempotency-Key': key('birthday-run') },
        }),
      );
      state.runs.birthday = body.id;
      save();
      say(`birthday run ${body.id} started: today's birthdays are greeted now, then daily at ${BIRTHDAY_AT}`);
    } catch (error) {
      if (!(error instanceof ApiProblem) || error.status !== 409) throw error;
      gaps.push({
        what: 'birthday greeting now',
        why: `${error.message}; the beat greets birthdays daily at ${BIRTHDAY_AT} (${DEMO_TENANT.time_zone})`,
      });
    }
  }
  if (!state.enrollments) {
    try {
      const body = await unwrap(
        enrollmentsCreate({
          client: api,
          path: { id: state.campaigns.sequence },
          body: { filter: { tags: ['trial'] } },
          headers: { 'Idempotency-Key': key('enrollments') },
        }),
      );
      state.enrollments = body;
      save();
      say(`sequence: ${body.enrolled + body.already_enrolled} trial contacts enrolled`);
    } catch (error) {
      if (!(error instanceof ApiProblem) || (error.status !== 404 && error.status !== 405)) throw error;
      gaps.push({ what: 'sequence enrollments', why: error.message });
    }
  }
  gaps.push(...(await seedDemoSourcing({ api, state, save, key, say })));
  if (gaps.length === 0 && !state.completed_at) {
    state.completed_at = new Date().toISOString();
    save();
  }
  return gaps;
}

/** Whether the tenant in `state` exists in the database the API serves (its key still works). */
export async function demoTenantIsLive(api: Client): Promise<boolean> {
  try {
    await unwrap(senderAccountsList({ client: api, query: { limit: '1' } }));
    return true;
  } catch (error) {
    if (error instanceof ApiProblem && (error.status === 401 || error.status === 403)) return false;
    throw error;
  }
}

/** The base URL a client was made with (the tenant's client talks to the same api as the admin's). */
function baseUrlOf(client: Client): string {
  return client.getConfig().baseUrl ?? '';
}
