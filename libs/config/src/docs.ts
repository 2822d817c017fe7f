import { ENV_VARS, SECTION_TITLES, type ConfigSection, type EnvVar } from './env-spec';

const HEADER = 'Generated from libs/config/src/env-spec.ts by `npm run config:docs`. Do not edit by hand.';

/** The description, naming any deprecated names the variable is still read under. */
function describe(v: EnvVar): string {
  const old = v.deprecatedNames ?? [];
  if (old.length === 0) return v.description;
  return `${v.description} Deprecated name, still read when this one is unset: ${old.map((n) => `\`${n}\``).join(', ')}.`;
}

function bySection(): Map<ConfigSection, EnvVar[]> {
  const sections = new Map<ConfigSection, EnvVar[]>();
  for (const variable of ENV_VARS as readonly EnvVar[]) {
    const list = sections.get(variable.section) ?? [];
    list.push(variable);
    sections.set(variable.section, list);
  }
  return sections;
}

export function renderEnvExample(): string {
  const lines = [
    `# ${HEADER}`,
    '# Copy to .env and fill in the required values (those without a default).',
    '',
  ];
  for (const [section, variables] of bySection()) {
    lines.push(`# --- ${SECTION_TITLES[section]} ---`);
    for (const v of variables) {
      lines.push(
        `# ${describe(v)}${v.default === undefined ? ' (required)' : ''}${v.secret ? ' (secret)' : ''}`,
      );
      const value = v.secret ? (v.default === undefined ? '' : v.default) : (v.default ?? v.example ?? '');
      lines.push(`${v.name}=${value}`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

export function renderConfigurationMarkdown(): string {
  const escape = (s: string) => s.replace(/\|/g, '\\|');
  const lines = [
    '# Configuration',
    '',
    `<!-- ${HEADER} -->`,
    '',
    'Every Herald process reads the same variables; each role uses the ones it needs. The process refuses to start',
    'with a message naming each bad variable and why. Secrets are never logged; `.env.example` lists the same variables.',
    '',
  ];
  for (const [section, variables] of bySection()) {
    lines.push(
      `## ${SECTION_TITLES[section]}`,
      '',
      '| variable | default | secret | description |',
      '| --- | --- | --- | --- |',
    );
    for (const v of variables) {
      const def =
        v.default === undefined ? '**required**' : v.default === '' ? '(empty)' : `\`${v.default}\``;
      lines.push(`| \`${v.name}\` | ${def} | ${v.secret ? 'yes' : ''} | ${escape(describe(v))} |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}
