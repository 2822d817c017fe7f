import { CredentialCipher } from '@herald/channels';
import { SenderCredentialsResealer } from '@herald/deliveries';
import { ProviderWebhookResealer } from '@herald/provider-events';
import { SourceCredentialsResealer } from '@herald/sourcing';
import { setTimeout as delay } from 'node:timers/promises';
import type { CliContext } from '../cli-context';
import { EXIT, type ExitCode } from '../exit-codes';
import { parseCount } from '../input';
import {
  rotateEncryption,
  type Resealer,
  type RotationProgress,
  type RotationReport,
} from '../key-rotation/encryption-rotation';
import { IdempotencyResponsesResealer } from '../key-rotation/idempotency-responses.resealer';
import { table } from '../output';
import { formatPercent, progressBar, ProgressLine } from '../progress';

// Loaded by `herald keys rotate-encryption` when it runs (it pulls in the channels, deliveries and engagement libs).

export interface RotateEncryptionOptions {
  batchSize: string;
  dryRun?: boolean;
}

const PASS_PAUSE_MS = 1000;

/**
 * Re-seals everything sealed with another key than HERALD_ENCRYPTION_KEY (the fleet's own
 * ring, read as the api reads it) with that key, a batch per transaction, while the fleet runs.
 * Exit 0 when nothing is left under another key (the previous keys can then leave the ring), 1
 * when something is.
 */
export async function rotateEncryptionCommand(
  ctx: CliContext,
  options: RotateEncryptionOptions,
): Promise<ExitCode> {
  const batchSize = parseCount(options.batchSize, '--batch-size', 10_000);
  const dryRun = options.dryRun === true;
  const config = await ctx.fleetConfig();
  const db = await ctx.database();
  const ring = config.security.encryptionKeys;
  const rotate = async <Cursor>(resealer: Resealer<Cursor>): Promise<RotationReport> => {
    const progress = new ProgressLine(ctx.out.stderr, { tty: ctx.out.interactive });
    let last: RotationProgress | undefined;
    const report = await rotateEncryption(resealer, ring, {
      batchSize,
      dryRun,
      pause: () => delay(PASS_PAUSE_MS),
      onProgress: (p) => progress.update(progressText((last = p))),
    });
    if (last) progress.finish(progressText(last));
    return report;
  };
  const reports = [
    await rotate(new SenderCredentialsResealer(db, CredentialCipher.fromConfig(config.security))),
    await rotate(new ProviderWebhookResealer(db, CredentialCipher.fromConfig(config.security))),
    await rotate(new SourceCredentialsResealer(db, CredentialCipher.fromConfig(config.security))),
    await rotate(new IdempotencyResponsesResealer(db, ring)),
  ];

  const remaining = reports.reduce((n, r) => n + r.remaining, 0);
  const unreadable = reports.reduce((n, r) => n + r.unreadable, 0);
  const previous = ring.previous.map((k) => k.id);
  ctx.out.result(
    {
      dry_run: dryRun,
      current_key: ring.current.id,
      previous_keys: previous,
      data: reports.map((r) => ({
        name: r.name,
        total: r.total,
        resealed: r.resealed,
        remaining: r.remaining,
        remaining_by_key: r.remainingByKey,
        unreadable: r.unreadable,
      })),
      remaining,
      unreadable,
    },
    () =>
      `${table(
        ['data', 'current key', 'values', dryRun ? 'to reseal' : 'resealed', 'remaining', 'by key'],
        reports.map((r) => [
          r.name,
          r.currentKey,
          r.total,
          dryRun ? r.remaining - r.unreadable : r.resealed,
          r.remaining,
          byKey(r.remainingByKey),
        ]),
      )}\n\n${conclusion(dryRun, ring.current.id, previous, remaining, unreadable)}`,
  );
  if (config.api.keyPeppers.derived && previous.length > 0) {
    ctx.out.note(
      'API_KEY_PEPPER is not set: API keys are hashed with a pepper derived from the encryption key. ' +
        `A key not used since ${ring.current.id} became current stops working once the previous keys leave the ring ` +
        '(keys move to the current pepper on their next use); see docs/security.md#rotating-keys.',
    );
  }
  return dryRun || remaining === 0 ? EXIT.ok : EXIT.failed;
}

function progressText(p: RotationProgress): string {
  const fraction = p.of === 0 ? 1 : p.resealed / p.of;
  const pass = p.pass > 1 ? ` (pass ${p.pass})` : '';
  return `${p.name} ${progressBar(fraction)} ${formatPercent(fraction)}  re-sealed ${p.resealed} of ${p.of}${pass}`;
}

function byKey(counts: Record<string, number>): string {
  return Object.entries(counts)
    .map(([id, n]) => `${id}=${n}`)
    .join(' ');
}

function conclusion(
  dryRun: boolean,
  current: string,
  previous: readonly string[],
  remaining: number,
  unreadable: number,
): string {
  const lost =
    unreadable > 0
      ? `; ${unreadable} value(s) name a key the ring does not hold and cannot be re-sealed (put that key back in HERALD_ENCRYPTION_PREVIOUS_KEYS)`
      : '';
  if (dryRun) return `dry run: ${remaining - unreadable} value(s) would be re-sealed with ${current}${lost}`;
  if (remaining === 0) {
    return previous.length > 0
      ? `everything is sealed with ${current}: ${previous.join(', ')} can leave HERALD_ENCRYPTION_PREVIOUS_KEYS`
      : `everything is sealed with ${current}`;
  }
  return (
    `${remaining} value(s) are still sealed with another key than ${current}${lost}. ` +
    'Others were held by requests or written by processes not yet on the new HERALD_ENCRYPTION_KEY: ' +
    'run again once every process has it'
  );
}
