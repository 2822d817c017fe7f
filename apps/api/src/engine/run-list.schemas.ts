import { RUN_STATUSES } from '@herald/campaigns';
import { z } from 'zod';
import { component } from '../http/openapi';
import { limitParam } from '../tenants/tenants.schemas';
import { EXAMPLE_RUN, RunSchema } from './runs.schemas';

export const runListQuery = z.strictObject({
  limit: limitParam(100, 'Page size, 1 to 100 (default 20).', '20'),
  cursor: z.string().max(200).optional().meta({ description: '`next_cursor` of the previous page.' }),
  status: z
    .enum(RUN_STATUSES, { error: `must be one of ${RUN_STATUSES.join(', ')}` })
    .optional()
    .meta({ description: 'Only runs in this status.', examples: ['running'] }),
  campaign_id: z.uuid('must be a UUID').optional().meta({ description: 'Only runs of this campaign.' }),
});

export const RunListSchema = component(
  'RunList',
  z.object({ data: z.array(RunSchema), next_cursor: z.string().nullable() }),
);

export const EXAMPLE_RUN_LIST = { data: [EXAMPLE_RUN], next_cursor: null };
