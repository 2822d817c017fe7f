import { z } from 'zod';
import { named } from '../http/openapi';

/** The body is optional: `{}` or `{ "hold_ms": 0..60000 }`, nothing else. */
export const createPingBody = z
  .strictObject({
    hold_ms: z.number().int().min(0).max(60_000).optional().meta({
      description: 'How long the worker holds the job before marking it processed (shutdown tests).',
    }),
  })
  .optional();

export const pingParams = z.strictObject({ id: z.string().meta({ description: 'The ping id.' }) });

export const PingSchema = named(
  'SystemPing',
  z.object({
    id: z.string(),
    request_id: z.string(),
    status: z.enum(['queued', 'processed']),
    processed_by: z.string().nullable(),
    job_id: z.string().nullable(),
    created_at: z.string(),
    processed_at: z.string().nullable(),
  }),
);

export type PingView = z.infer<typeof PingSchema>;

export const EXAMPLE_PING: PingView = {
  id: '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b',
  request_id: 'hello-herald-1',
  status: 'processed',
  processed_by: 'worker-7f9c',
  job_id: 'ping-6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b',
  created_at: '2026-12-06T09:00:00.000Z',
  processed_at: '2026-12-06T09:00:00.120Z',
};
