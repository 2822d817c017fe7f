import type { ReactNode } from 'react';
import { DAYS, type Day, type Draft } from './campaign-draft';

/** The campaign fields: kind, sender, steps, audience, schedule, send window and quota policy. */
export function CampaignForm({
  draft,
  onChange,
  senders,
  editing,
}: {
  draft: Draft;
  onChange: (d: Draft) => void;
  senders: { id: string; name: string }[];
  editing: boolean;
}) {
  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => onChange({ ...draft, [key]: value });
  const setStep = (i: number, patch: Partial<Draft['steps'][number]>) =>
    set(
      'steps',
      draft.steps.map((s, j) => (j === i ? { ...s, ...patch } : s)),
    );
  const multiStep = draft.kind === 'sequence';
  return (
    <>
      <fieldset>
        <legend>Campaign</legend>
        <div className="grid">
          <Field id="name" label="Name">
            <input id="name" required value={draft.name} onChange={(e) => set('name', e.target.value)} />
          </Field>
          <Field id="kind" label="Kind" hint={editing ? 'A campaign keeps its kind.' : undefined}>
            <select
              id="kind"
              value={draft.kind}
              disabled={editing}
              onChange={(e) => {
                const kind = e.target.value as Draft['kind'];
                onChange({
                  ...draft,
                  kind,
                  steps: kind === 'sequence' ? draft.steps : draft.steps.slice(0, 1),
                });
              }}
            >
              <option value="broadcast">Broadcast</option>
              <option value="birthday">Birthday</option>
              <option value="sequence">Sequence</option>
            </select>
          </Field>
          <Field id="sender" label="Sender account">
            <select
              id="sender"
              value={draft.sender_account_id}
              onChange={(e) => set('sender_account_id', e.target.value)}
            >
              {senders.length === 0 && <option value="">No sender accounts</option>}
              {senders.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name}
                </option>
              ))}
            </select>
          </Field>
        </div>
      </fieldset>

      <fieldset>
        <legend>{multiStep ? 'Steps' : 'Message'}</legend>
        <p className="muted small">
          Templates use <code>{'{{first_name}}'}</code>, <code>{'{{last_name}}'}</code>,{' '}
          <code>{'{{email}}'}</code> and attributes.
        </p>
        {draft.steps.map((step, i) => (
          <div className="step" key={i}>
            {multiStep && <h3>Step {i + 1}</h3>}
            {multiStep && i > 0 && (
              <Field id={`delay-${i}`} label="Wait before this step (hours)">
                <input
                  id={`delay-${i}`}
                  inputMode="decimal"
                  value={step.delayHours}
                  onChange={(e) => setStep(i, { delayHours: e.target.value })}
                />
              </Field>
            )}
            <Field id={`subject-${i}`} label="Subject">
              <input
                id={`subject-${i}`}
                value={step.subject}
                onChange={(e) => setStep(i, { subject: e.target.value })}
              />
            </Field>
            <Field id={`body-${i}`} label="Body">
              <textarea
                id={`body-${i}`}
                rows={5}
                required
                value={step.body}
                onChange={(e) => setStep(i, { body: e.target.value })}
              />
            </Field>
            <label className="check">
              <input
                type="checkbox"
                checked={step.html}
                onChange={(e) => setStep(i, { html: e.target.checked })}
              />{' '}
              HTML body
            </label>
            {multiStep && draft.steps.length > 1 && (
              <button
                type="button"
                className="secondary"
                onClick={() =>
                  set(
                    'steps',
                    draft.steps.filter((_, j) => j !== i),
                  )
                }
              >
                Remove step {i + 1}
              </button>
            )}
          </div>
        ))}
        {multiStep && (
          <button
            type="button"
            className="secondary"
            onClick={() =>
              set('steps', [...draft.steps, { subject: '', body: '', delayHours: '24', html: false }])
            }
          >
            Add a step
          </button>
        )}
      </fieldset>

      <fieldset>
        <legend>Audience</legend>
        <div className="grid">
          <Field id="tags" label="Tags (comma-separated; empty: every active contact)">
            <input id="tags" value={draft.tags} onChange={(e) => set('tags', e.target.value)} />
          </Field>
          <Field id="q" label="Search (name or email contains)">
            <input id="q" value={draft.q} onChange={(e) => set('q', e.target.value)} />
          </Field>
        </div>
      </fieldset>

      <fieldset>
        <legend>Timing</legend>
        <label className="check">
          <input
            type="checkbox"
            checked={draft.scheduleOn}
            onChange={(e) => set('scheduleOn', e.target.checked)}
          />{' '}
          Run on a schedule
        </label>
        {draft.scheduleOn && (
          <div className="grid">
            <Field id="schedule-at" label="Every day at (local time)">
              <input
                id="schedule-at"
                type="time"
                value={draft.scheduleAt}
                onChange={(e) => set('scheduleAt', e.target.value)}
              />
            </Field>
            <DayPicker
              name="Schedule days"
              value={draft.scheduleDays}
              onChange={(v) => set('scheduleDays', v)}
            />
          </div>
        )}
        <label className="check">
          <input
            type="checkbox"
            checked={draft.windowOn}
            onChange={(e) => set('windowOn', e.target.checked)}
          />{' '}
          Send only inside a window
        </label>
        {draft.windowOn && (
          <div className="grid">
            <Field id="window-start" label="Window opens">
              <input
                id="window-start"
                type="time"
                value={draft.windowStart}
                onChange={(e) => set('windowStart', e.target.value)}
              />
            </Field>
            <Field id="window-end" label="Window closes">
              <input
                id="window-end"
                type="time"
                value={draft.windowEnd}
                onChange={(e) => set('windowEnd', e.target.value)}
              />
            </Field>
            <DayPicker name="Window days" value={draft.windowDays} onChange={(v) => set('windowDays', v)} />
          </div>
        )}
        {(draft.scheduleOn || draft.windowOn) && (
          <Field id="zone" label="Time zone (IANA; empty: the tenant's)">
            <input
              id="zone"
              value={draft.timeZone}
              placeholder="Europe/Paris"
              onChange={(e) => set('timeZone', e.target.value)}
            />
          </Field>
        )}
      </fieldset>

      <fieldset>
        <legend>Limits</legend>
        <div className="grid">
          <Field id="run-cap" label="Most deliveries per run (empty: no cap)">
            <input
              id="run-cap"
              inputMode="numeric"
              value={draft.runCap}
              onChange={(e) => set('runCap', e.target.value)}
            />
          </Field>
          <Field id="quota-policy" label="When the sender's quota is used up">
            <select
              id="quota-policy"
              value={draft.quota_policy}
              onChange={(e) => set('quota_policy', e.target.value as Draft['quota_policy'])}
            >
              <option value="defer">Defer until the quota resets</option>
              <option value="skip">Skip the contact</option>
            </select>
          </Field>
          <Field id="catch-up" label="After downtime, a missed schedule">
            <select
              id="catch-up"
              value={draft.catch_up}
              onChange={(e) => set('catch_up', e.target.value as Draft['catch_up'])}
            >
              <option value="fire_once">Runs once</option>
              <option value="skip">Is skipped</option>
            </select>
          </Field>
        </div>
      </fieldset>
    </>
  );
}

function Field({
  id,
  label,
  hint,
  children,
}: {
  id: string;
  label: string;
  hint?: string;
  children: ReactNode;
}) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children}
      {hint && <span className="muted small">{hint}</span>}
    </div>
  );
}

function DayPicker({
  name,
  value,
  onChange,
}: {
  name: string;
  value: Day[];
  onChange: (days: Day[]) => void;
}) {
  return (
    <fieldset className="days">
      <legend>{name} (none: every day)</legend>
      {DAYS.map((d) => (
        <label key={d} className="check">
          <input
            type="checkbox"
            checked={value.includes(d)}
            onChange={(e) =>
              onChange(
                e.target.checked
                  ? DAYS.filter((x) => x === d || value.includes(x))
                  : value.filter((x) => x !== d),
              )
            }
          />{' '}
          {d}
        </label>
      ))}
    </fieldset>
  );
}
