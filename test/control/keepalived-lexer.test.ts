import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decomment, lex, splitCommand, splitLine } from '../../src/control/keepalived/lexer.js';
import { type ConfNode, parse } from '../../src/control/keepalived/parser.js';
import { expandGlob, memoryReader } from '../../src/control/keepalived/source.js';

test('comments start at ! or # outside double quotes; \\# and \\! are literal', () => {
  assert.equal(decomment('  weight 1   # comment'), 'weight 1');
  assert.equal(decomment('! whole line'), '');
  assert.equal(decomment('misc_path "/bin/x #1 !2" ! trailing'), 'misc_path "/bin/x #1 !2"');
  assert.equal(decomment('auth_pass pa\\#ss'), 'auth_pass pa#ss');
});

test('lines split into words, quoted strings and braces wherever they stand', () => {
  assert.deepEqual(splitLine('url{ path "/a b" }'), [
    { kind: 'word', text: 'url' },
    { kind: 'open' },
    { kind: 'word', text: 'path' },
    { kind: 'word', text: '/a b' },
    { kind: 'close' },
  ]);
});

test('script command lines split like keepalived: quotes and escapes, no shell', () => {
  assert.deepEqual(splitCommand(`/bin/check 'a b' "c \\"d\\"" e\\ f \\x41\\101`), [
    '/bin/check',
    'a b',
    'c "d"',
    'e f',
    'AA',
  ]);
  assert.deepEqual(splitCommand('   '), []);
});

function tree(nodes: ConfNode[]): unknown[] {
  return nodes.map((n) => (n.children ? [n.name, ...n.args, tree(n.children)] : [n.name, ...n.args]));
}

test('blocks open on the keyword line or the next, and may sit on one line', () => {
  const reader = memoryReader({
    '/k.conf': 'vrrp_instance VI_1\n{\n  virtual_ipaddress { 10.0.0.1 10.0.0.2 }\n  priority 100 }\nlast',
  });
  const { nodes, notes } = parse(lex('/k.conf', reader).tokens);
  assert.deepEqual(tree(nodes), [
    [
      'vrrp_instance',
      'VI_1',
      [
        ['virtual_ipaddress', [['10.0.0.1', '10.0.0.2']]],
        ['priority', '100'],
      ],
    ],
    ['last'],
  ]);
  assert.deepEqual(notes, []);
  assert.equal(nodes[0]!.line, 1);
  assert.equal(nodes[0]!.endLine, 4);
  assert.equal(nodes[1]!.line, 5);
});

test('unbalanced braces are reported with their line, not fatal', () => {
  const reader = memoryReader({ '/k.conf': 'a {\n b\n}\n}\nc {\n d\n' });
  const { nodes, notes } = parse(lex('/k.conf', reader).tokens);
  assert.deepEqual(tree(nodes), [
    ['a', [['b']]],
    ['c', [['d']]],
  ]);
  assert.deepEqual(
    notes.map((n) => [n.line, n.statement]),
    [
      [4, '}'],
      [5, '{'],
    ],
  );
});

test('include splices files in place, relative to the including file, and stops loops', () => {
  const reader = memoryReader({
    '/etc/k/main.conf': 'a\ninclude sub/*.conf\nz\n',
    '/etc/k/sub/1.conf': 'b\ninclude ../main.conf\n',
    '/etc/k/sub/2.conf': 'c\ninclude /etc/k/other/{3,4}.conf\n',
    '/etc/k/other/3.conf': 'd\n',
  });
  const result = lex('/etc/k/main.conf', reader);
  const words = result.tokens
    .filter((t) => t.kind === 'word')
    .map((t) => `${t.file}:${t.line}:${'text' in t ? t.text : ''}`);
  assert.deepEqual(words, [
    '/etc/k/main.conf:1:a',
    '/etc/k/sub/1.conf:1:b',
    '/etc/k/sub/2.conf:1:c',
    '/etc/k/other/3.conf:1:d',
    '/etc/k/main.conf:3:z',
  ]);
  assert.deepEqual(
    result.notes.map((n) => [n.file, n.line, n.reason.split(':')[0]]),
    [['/etc/k/sub/1.conf', 2, 'include loop']],
  );
});

test('globs match *, ?, [...] and {a,b}, skip dot files, and sort', () => {
  const reader = memoryReader({
    '/d/b.conf': '',
    '/d/a.conf': '',
    '/d/.h.conf': '',
    '/d/x1.cfg': '',
    '/d/sub/a.conf': '',
  });
  assert.deepEqual(expandGlob('*.conf', '/d', reader), ['/d/a.conf', '/d/b.conf']);
  assert.deepEqual(expandGlob('/d/{a.conf,x?.cfg}', '/', reader), ['/d/a.conf', '/d/x1.cfg']);
  assert.deepEqual(expandGlob('[ab].conf', '/d', reader), ['/d/a.conf', '/d/b.conf']);
  assert.deepEqual(expandGlob('*/a.conf', '/d', reader), ['/d/sub/a.conf']);
  assert.deepEqual(expandGlob('nope/*.conf', '/d', reader), []);
});
