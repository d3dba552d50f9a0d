import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCodes, isTslvsError, TslvsError } from '../src/errors.js';

test('TslvsError carries a stable code and serialises it', () => {
  const err = new TslvsError(ErrorCodes.CONFIG, 'bad', { key: 'services.0.address' });
  assert.equal(err.code, 'TSLVS_ERR_CONFIG');
  assert.ok(isTslvsError(err, ErrorCodes.CONFIG));
  assert.ok(!isTslvsError(err, ErrorCodes.USAGE));
  assert.deepEqual(JSON.parse(JSON.stringify(err)), {
    code: 'TSLVS_ERR_CONFIG',
    message: 'bad',
    details: { key: 'services.0.address' },
  });
});
