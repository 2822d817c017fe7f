import { SystemPing } from './system-ping.entity';
import { Tenant } from './tenant.entity';

export { SystemPing, Tenant };

/** Every entity the data source knows; new aggregates are added here. */
export const ENTITIES = [Tenant, SystemPing];
