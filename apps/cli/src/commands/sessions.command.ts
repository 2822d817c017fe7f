import type { Command } from 'commander';
import { createHash, randomBytes } from 'node:crypto';
import type { CliContext } from '../cli-context';
import { CliError, EXIT } from '../exit-codes';
import { parseCount, parseId } from '../input';
import { fields } from '../output';
import type { Run } from '../program';

interface LinkOptions {
  tenant: string;
  key?: string;
  ttl: string;
}

/** `herald sessions link --tenant <id>`: a one-time console sign-in link, minted in Postgres. */
export function registerSessionCommands(program: Command, run: Run): void {
  const sessions = program.command('sessions').description('console sign-in (DATABASE_URL)');
  sessions
    .command('link')
    .description(
      "print a one-time console sign-in link acting as one of the tenant's keys (it works once, within --ttl)",
    )
    .requiredOption('--tenant <id>', 'the tenant')
    .option('--key <key-id>', "the key the session acts as (default: the tenant's oldest active admin key)")
    .option('--ttl <seconds>', 'how long the link stays valid (at most 86400)', '900')
    .action((options: LinkOptions, command: Command) => run(command, (ctx) => mintLink(ctx, options)));
}

async function mintLink(ctx: CliContext, options: LinkOptions): Promise<void> {
  const tenantId = parseId(options.tenant, '--tenant');
  const keyId = options.key === undefined ? undefined : parseId(options.key, '--key');
  const ttl = parseCount(options.ttl, '--ttl', 86_400);
  const db = await ctx.database();
  const [key] = await db.query<{ id: string }[]>(
    `SELECT k.id FROM tenants t
       JOIN api_keys k ON k.tenant_id = t.id AND k.revoked_at IS NULL
      WHERE t.id = $1 AND ($2::uuid IS NULL AND 'admin' = ANY (k.scopes) OR k.id = $2::uuid)
      ORDER BY k.created_at, k.id LIMIT 1`,
    [tenantId, keyId ?? null],
  );
  if (!key) {
    throw new CliError(
      EXIT.notFound,
      keyId
        ? `tenant ${tenantId} has no active API key ${keyId}`
        : `tenant ${tenantId} does not exist or has no active admin key`,
    );
  }
  // The api's format (apps/api/src/sessions/session-token.ts): `hl_` and 256 random bits; only the hash is stored.
  const token = `hl_${randomBytes(32).toString('base64url')}`;
  const [link] = await db.query<{ expires_at: Date }[]>(
    `INSERT INTO console_sign_in_links (token_hash, tenant_id, api_key_id, expires_at)
     VALUES ($1, $2, $3, now() + make_interval(secs => $4)) RETURNING expires_at`,
    [createHash('sha256').update(token).digest(), tenantId, key.id, ttl],
  );
  const base = ctx.options.apiUrl.replace(/\/+$/, '');
  const view = {
    url: `${base}/console/sign-in?token=${token}`,
    tenant_id: tenantId,
    key_id: key.id,
    expires_at: link!.expires_at.toISOString(),
  };
  ctx.out.result(view, () =>
    fields([
      ['link', view.url],
      ['tenant', view.tenant_id],
      ['acts as key', view.key_id],
      ['expires', view.expires_at],
    ]),
  );
  ctx.out.note('the link works once: open it in the browser that should be signed in');
}
