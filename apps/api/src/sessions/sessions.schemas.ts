import { API_KEY_SCOPES } from '@herald/tenants';
import { z } from 'zod';
import { named } from '../http/openapi';

export const signInBody = z.strictObject({
  key: z
    .string({ error: 'must be a string' })
    .min(1, 'give a key')
    .max(1024, 'is longer than any key')
    .meta({
      description:
        'A tenant API key (its session acts with its scopes) or the platform admin key (the platform view).',
      examples: ['hk_4gT2s9QmXv1b_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0'],
    }),
});

export const signInLinkQuery = z.strictObject({
  token: z
    .string({ error: 'is required' })
    .min(1, 'is required')
    .max(200, 'is not a sign-in token')
    .meta({
      description: 'The one-time token of the link.',
      examples: ['hl_Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE'],
    }),
});

export const SessionSchema = named(
  'ConsoleSession',
  z.object({
    tenant_id: z
      .uuid()
      .nullable()
      .meta({ description: 'The tenant; null for the platform view (admin key).' }),
    time_zone: z.string().nullable().meta({
      description: 'The tenant’s IANA zone, which the console shows times in; null for the platform view.',
    }),
    scopes: z
      .array(z.enum(API_KEY_SCOPES))
      .meta({ description: 'The scopes of the key the session came from; empty for the platform view.' }),
    expires_at: z.string().meta({
      format: 'date-time',
      description:
        'When the session ends unless used again (idle timeout), never later than its absolute end.',
    }),
    csrf_token: z
      .string()
      .meta({ description: 'Send as `X-CSRF-Token` with every write made with the session cookie.' }),
  }),
);

export const SignInLinkSchema = named(
  'ConsoleSignInLink',
  z.object({
    url: z.string().meta({ description: 'Open it once in a browser: it signs in and goes to /console/.' }),
    expires_at: z.string().meta({ format: 'date-time' }),
  }),
);

export const EXAMPLE_SESSION = {
  tenant_id: '0190f5e4-6a2b-7c3d-8e4f-5a6b7c8d9e0f',
  time_zone: 'Europe/Paris',
  scopes: ['admin'],
  expires_at: '2026-12-07T18:00:00.000Z',
  csrf_token: 'q0Jm3i7Q4mI1tH2x0f9yQ1Yt8Zr5y0c3bX9lW2aP4sE',
};
