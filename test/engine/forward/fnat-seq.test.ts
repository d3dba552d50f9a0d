import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seqToClient, seqToServer } from '../../../src/engine/forward/index.js';

test('client -> RS: only sequence numbers after the first data byte move', () => {
  const isn = 1001;
  assert.equal(seqToServer(1000, isn, 28), 1000); // the SYN
  assert.equal(seqToServer(1001, isn, 28), 1001); // the first byte: the header goes in front of it
  assert.equal(seqToServer(1002, isn, 28), 1030);
  // Across the 2^32 wrap.
  const w = 0xffff_fff0;
  assert.equal(seqToServer(5, w, 28), 33);
  assert.equal(seqToServer(0xffff_ffff, w, 28), (0xffff_ffff + 28) >>> 0);
});

test('RS -> client: acknowledgments back into the client space', () => {
  const isn = 1001;
  assert.equal(seqToClient(1001, isn, 28, false), 1001); // SYN-ACK: ISN + 1
  assert.equal(seqToClient(1010, isn, 28, false), 1001); // part of the header only
  assert.equal(seqToClient(1029, isn, 28, false), 1001); // the whole header
  assert.equal(seqToClient(1040, isn, 28, false), 1012);
  // Before the header went out (client FIN without data): ISN + 2 stays.
  assert.equal(seqToClient(1002, isn, 28, true), 1002);
  // ... but an edge past where the header will be is shifted already (a later segment got through).
  assert.equal(seqToClient(1050, isn, 28, true), 1022);
  const w = 0xffff_fff0;
  assert.equal(seqToClient(40, w, 28, false), 12);
});
