import { uuidv7 } from '@herald/contacts';
import { queryRows, type KeysetPosition } from '@herald/persistence';
import type { DataSource, EntityManager } from 'typeorm';
import type { ScoringRule, ScoringVersionInput, TierThresholds } from './scoring-rules';

export interface ScoringModelRecord {
  id: string;
  name: string;
  currentVersion: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface ScoringVersionRecord {
  modelId: string;
  version: number;
  rules: ScoringRule[];
  tiers: TierThresholds;
  createdAt: Date;
}

interface ModelRow {
  id: string;
  name: string;
  current_version: number;
  created_at: Date;
  updated_at: Date;
}
interface VersionRow {
  model_id: string;
  version: number;
  rules: ScoringRule[];
  tiers: TierThresholds;
  created_at: Date;
}

const toModel = (r: ModelRow): ScoringModelRecord => ({
  id: r.id,
  name: r.name,
  currentVersion: r.current_version,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});
const toVersion = (r: VersionRow): ScoringVersionRecord => ({
  modelId: r.model_id,
  version: r.version,
  rules: r.rules,
  tiers: r.tiers,
  createdAt: r.created_at,
});

/** Scoring models and their versions; a version never changes once written (a run records it). */
export class ScoringModelsRepository {
  constructor(private readonly dataSource: DataSource) {}

  async create(manager: EntityManager, tenantId: string, name: string, first: ScoringVersionInput) {
    const id = uuidv7();
    const [model] = await manager.query<ModelRow[]>(
      `INSERT INTO scoring_models (tenant_id, id, name, current_version) VALUES ($1, $2, $3, 1)
       RETURNING id, name, current_version, created_at, updated_at`,
      [tenantId, id, name],
    );
    const version = await this.insertVersion(manager, tenantId, id, 1, first);
    return { model: toModel(model!), version };
  }

  /** The next version, made current; undefined when the model is not the tenant's. */
  async addVersion(manager: EntityManager, tenantId: string, modelId: string, input: ScoringVersionInput) {
    const [model] = queryRows<ModelRow>(
      await manager.query<unknown>(
        `UPDATE scoring_models SET current_version = current_version + 1, updated_at = now()
        WHERE tenant_id = $1 AND id = $2
        RETURNING id, name, current_version, created_at, updated_at`,
        [tenantId, modelId],
      ),
    );
    if (!model) return undefined;
    const version = await this.insertVersion(manager, tenantId, modelId, model.current_version, input);
    return { model: toModel(model), version };
  }

  async find(tenantId: string, modelId: string): Promise<ScoringModelRecord | undefined> {
    const [row] = await this.dataSource.query<ModelRow[]>(
      `SELECT id, name, current_version, created_at, updated_at FROM scoring_models WHERE tenant_id = $1 AND id = $2`,
      [tenantId, modelId],
    );
    return row && toModel(row);
  }

  async list(tenantId: string, after: KeysetPosition | null, limit: number) {
    const rows = await this.dataSource.query<ModelRow[]>(
      `SELECT id, name, current_version, created_at, updated_at FROM scoring_models
        WHERE tenant_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) > ($2, $3::uuid))
        ORDER BY created_at, id LIMIT $4`,
      [tenantId, after?.createdAt ?? null, after?.id ?? null, limit],
    );
    return rows.map(toModel);
  }

  async version(tenantId: string, modelId: string, version: number, manager?: EntityManager) {
    const [row] = await (manager ?? this.dataSource).query<VersionRow[]>(
      `SELECT model_id, version, rules, tiers, created_at FROM scoring_model_versions
        WHERE tenant_id = $1 AND model_id = $2 AND version = $3`,
      [tenantId, modelId, version],
    );
    return row && toVersion(row);
  }

  private async insertVersion(
    manager: EntityManager,
    tenantId: string,
    modelId: string,
    version: number,
    input: ScoringVersionInput,
  ): Promise<ScoringVersionRecord> {
    const [row] = await manager.query<VersionRow[]>(
      `INSERT INTO scoring_model_versions (tenant_id, model_id, version, rules, tiers) VALUES ($1, $2, $3, $4, $5)
       RETURNING model_id, version, rules, tiers, created_at`,
      [tenantId, modelId, version, JSON.stringify(input.rules), JSON.stringify(input.tiers)],
    );
    return toVersion(row!);
  }
}
