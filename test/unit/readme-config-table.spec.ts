import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EnvironmentVariables } from '../../src/adapters/config/environment.schema.js';

/** The README's configuration table is the operator's contract: it must list every variable with its real default. */
describe('README configuration table', () => {
  const readme = readFileSync(join(__dirname, '../../README.md'), 'utf8');
  const configurationSection = readme.split('## Configuration')[1].split('\n## ')[0];
  const rows = new Map(
    [...configurationSection.matchAll(/^\| `([A-Z0-9_]+)` \| ([^|]+) \|/gm)].map(([, name, defaultCell]) => [name, defaultCell.trim()]),
  );
  const defaults = new EnvironmentVariables() as unknown as Record<string, unknown>;

  it.each(Object.keys(defaults).concat('IPFIX_COLLECTOR_HOST'))('documents %s with its default', (name) => {
    expect(rows.has(name)).toBe(true);
    const value = defaults[name];
    if (value !== undefined) expect(rows.get(name)).toBe(`\`${String(value)}\``);
  });

  it('documents no variable the agent does not read', () => {
    const known = new Set(Object.keys(defaults).concat('IPFIX_COLLECTOR_HOST'));
    expect([...rows.keys()].filter((name) => !known.has(name))).toEqual([]);
  });
});
