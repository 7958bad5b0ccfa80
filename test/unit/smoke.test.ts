import { test } from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../../server/src/cli/main';

test('cli prints usage and exits 2 with no command', async () => {
  assert.equal(await main([]), 2);
});
