import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Foundation1763820000000 implements MigrationInterface {
  name = 'Foundation1763820000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE tenants (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
        time_zone text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE system_pings (
        id uuid PRIMARY KEY,
        request_id text NOT NULL,
        processed_by text,
        job_id text,
        created_at timestamptz NOT NULL DEFAULT now(),
        processed_at timestamptz
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE system_pings');
    await q.query('DROP TABLE tenants');
  }
}
