import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../server/config';

describe('documentation', () => {
  const keys = Object.keys(configSchema.shape);
  it('every environment variable is documented in the README and .env.example', () => {
    const readme = readFileSync('README.md', 'utf8');
    const example = readFileSync('.env.example', 'utf8');
    expect(keys.filter((k) => !readme.includes(`\`${k}\``))).toEqual([]);
    expect(keys.filter((k) => !new RegExp(`^#?\\s*${k}=`, 'm').test(example))).toEqual([]);
  });
});
