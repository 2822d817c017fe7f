import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHART_README, renderChartReadme } from './render';

const root = join(__dirname, '../../..');
void renderChartReadme(root).then((markdown) => {
  writeFileSync(join(root, CHART_README), markdown);
  process.stdout.write(`wrote ${CHART_README}\n`);
});
