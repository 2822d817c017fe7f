import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Sequences: enrollments (a contact's way through a sequence campaign's steps) and the link from
 * a delivery to the enrollment step it sends.
 *
 * An enrollment moves on when its step's delivery finishes, whoever finishes it (the pipeline,
 * the reconciler, a cancel): a trigger on the ledger does it in the same transaction, so a sent
 * step and the scheduling of the next one commit together (promise 3) and no code path can
 * forget it. Broadcast rows (enrollment_id NULL) never enter the trigger function.
 */
export class Sequences1763860000000 implements MigrationInterface {
  name = 'Sequences1763860000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE enrollments (
        tenant_id uuid NOT NULL,
        id uuid NOT NULL,
        campaign_id uuid NOT NULL,
        contact_id uuid NOT NULL,
        status text NOT NULL DEFAULT 'active'
          CONSTRAINT ck_enrollments_status CHECK (status IN ('active', 'completed', 'replied', 'stopped')),
        stop_reason text CONSTRAINT ck_enrollments_stop_reason CHECK (char_length(stop_reason) <= 200),
        -- The index of the next step to send (while its delivery is in flight: the step being sent).
        current_step smallint NOT NULL DEFAULT 0 CONSTRAINT ck_enrollments_current_step CHECK (current_step >= 0),
        -- When the next step is due. NULL while a step's delivery is in flight, and once finished.
        next_due_at timestamptz(3),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        finished_at timestamptz(3),
        CONSTRAINT pk_enrollments PRIMARY KEY (tenant_id, id),
        CONSTRAINT uq_enrollments_campaign_contact UNIQUE (tenant_id, campaign_id, contact_id),
        CONSTRAINT fk_enrollments_campaign FOREIGN KEY (tenant_id, campaign_id)
          REFERENCES campaigns (tenant_id, id) ON DELETE CASCADE,
        CONSTRAINT fk_enrollments_contact FOREIGN KEY (tenant_id, contact_id)
          REFERENCES contacts (tenant_id, id) ON DELETE CASCADE
      )`);
    // The ticker's scan across tenants: due steps, oldest first.
    await q.query(
      `CREATE INDEX idx_enrollments_due ON enrollments (next_due_at) WHERE status = 'active' AND next_due_at IS NOT NULL`,
    );
    // Events stop a contact's active enrollments.
    await q.query(
      `CREATE INDEX idx_enrollments_tenant_contact_active ON enrollments (tenant_id, contact_id) WHERE status = 'active'`,
    );
    await q.query(
      `CREATE INDEX idx_enrollments_tenant_campaign_created ON enrollments (tenant_id, campaign_id, created_at, id)`,
    );

    await q.query(`ALTER TABLE deliveries ADD COLUMN enrollment_id uuid`);
    await q.query(
      `CREATE INDEX idx_deliveries_tenant_enrollment ON deliveries (tenant_id, enrollment_id) WHERE enrollment_id IS NOT NULL`,
    );

    await q.query(`
      CREATE FUNCTION enrollment_step_finished() RETURNS trigger
      LANGUAGE plpgsql AS $$
      DECLARE
        steps jsonb;
      BEGIN
        IF NEW.status = 'sent' THEN
          SELECT g.steps INTO steps FROM campaigns g WHERE g.tenant_id = NEW.tenant_id AND g.id = NEW.campaign_id;
          UPDATE enrollments e
             SET current_step = NEW.step + 1,
                 status = CASE WHEN NEW.step + 1 >= jsonb_array_length(steps) THEN 'completed' ELSE 'active' END,
                 next_due_at = CASE WHEN NEW.step + 1 >= jsonb_array_length(steps) THEN NULL
                   ELSE coalesce(NEW.sent_at, now())
                        + make_interval(secs => coalesce((steps -> (NEW.step + 1) ->> 'delay_seconds')::int, 0)) END,
                 finished_at = CASE WHEN NEW.step + 1 >= jsonb_array_length(steps) THEN now() ELSE NULL END,
                 updated_at = now()
           WHERE e.tenant_id = NEW.tenant_id AND e.id = NEW.enrollment_id
             AND e.status = 'active' AND e.current_step = NEW.step;
        ELSE
          UPDATE enrollments e
             SET status = 'stopped', stop_reason = 'delivery ' || NEW.status, next_due_at = NULL,
                 finished_at = now(), updated_at = now()
           WHERE e.tenant_id = NEW.tenant_id AND e.id = NEW.enrollment_id AND e.status = 'active';
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER trg_deliveries_enrollment_step
        AFTER UPDATE OF status ON deliveries
        FOR EACH ROW
        WHEN (NEW.enrollment_id IS NOT NULL AND OLD.status IS DISTINCT FROM NEW.status
              AND NEW.status IN ('sent', 'failed', 'skipped', 'cancelled'))
        EXECUTE FUNCTION enrollment_step_finished()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER trg_deliveries_enrollment_step ON deliveries`);
    await q.query(`DROP FUNCTION enrollment_step_finished()`);
    await q.query(`DROP INDEX idx_deliveries_tenant_enrollment`);
    await q.query(`ALTER TABLE deliveries DROP COLUMN enrollment_id`);
    await q.query(`DROP TABLE enrollments`);
  }
}
