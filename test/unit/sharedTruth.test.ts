// What the client, the server and the manifest share is written once: setting defaults and the
// version in package.json agree with the protocol file both sides import; every rule's explanation
// page exists and its folder is named by its id.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_SETTINGS, SETTINGS_SECTION, VERSION } from '../../server/src/lspExt';
import { RULES } from '../../server/src/rules/registry';
import { root } from '../helpers/kernelTree';

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  version: string;
  contributes: { configuration: { properties: Record<string, { default: unknown }> } };
};

test('package.json setting defaults and version are the shared ones', () => {
  const props = pkg.contributes.configuration.properties;
  for (const [name, value] of Object.entries(DEFAULT_SETTINGS))
    assert.equal(props[`${SETTINGS_SECTION}.${name}`]?.default, value, name);
  assert.equal(Object.keys(props).length, Object.keys(DEFAULT_SETTINGS).length);
  assert.equal(VERSION, pkg.version);
});

test('each rule: a folder named by its id with an explanation page, unique codes and fix ids', () => {
  const codes = new Set<string>();
  for (const r of RULES) {
    assert.ok(existsSync(join(root, 'server', 'src', 'rules', r.id, 'explanation.md')), r.id);
    assert.ok(existsSync(join(root, 'server', 'out', 'rules', `${r.id}.md`)), `${r.id}.md is built`);
    for (const c of r.codes) {
      assert.ok(!codes.has(c), `code ${c} used twice`);
      codes.add(c);
    }
    assert.equal(new Set(r.fixes.map((f) => f.id)).size, r.fixes.length);
  }
});
