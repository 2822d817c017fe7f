import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderConfigurationMarkdown, renderEnvExample } from '../docs';

const root = join(__dirname, '../../../../..');
writeFileSync(join(root, '.env.example'), renderEnvExample());
writeFileSync(join(root, 'docs/configuration.md'), renderConfigurationMarkdown());
process.stdout.write('wrote .env.example and docs/configuration.md\n');
