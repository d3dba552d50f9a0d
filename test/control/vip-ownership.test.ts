import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VipOwnership } from '../../src/control/vip-ownership.js';
import { formatIp, type IpAddress, parseIp } from '../../src/engine/addr.js';

const names = (list: IpAddress[]) => list.map((a) => formatIp(a)).sort();

test('VIP ownership is the union over the VRRP instances held; releasing one keeps the others', () => {
  const o = new VipOwnership();
  const v4 = [parseIp('10.0.0.100'), parseIp('10.0.1.250')];
  const v6 = [parseIp('fd10::100')];
  assert.deepEqual(names(o.own('lab', v4).taken), ['10.0.0.100', '10.0.1.250']);
  const both = o.own('lab6', v6);
  assert.deepEqual(names(both.owned), ['10.0.0.100', '10.0.1.250', 'fd10::100']);
  assert.deepEqual(names(both.taken), ['fd10::100']);
  const after = o.release('lab');
  assert.deepEqual(names(after.owned), ['fd10::100'], "lab6's addresses stay held");
  assert.deepEqual(after.taken, []);
  o.own('lab', v4);
  o.retain(['lab']);
  assert.deepEqual(o.instances(), ['lab'], 'an instance removed by a reload holds nothing');
  assert.deepEqual(names(o.release('lab').owned), []);
});

test('an address held by two instances is listed once', () => {
  const o = new VipOwnership();
  o.own('a', [parseIp('10.0.0.1')]);
  assert.deepEqual(names(o.own('b', [parseIp('10.0.0.1')]).owned), ['10.0.0.1']);
  assert.deepEqual(names(o.release('a').owned), ['10.0.0.1']);
});
