import { test } from 'node:test';
import assert from 'node:assert/strict';
import { arrayLiteral, isLiteralArray } from './array-literal.ts';

test('array text: numbers bare, text always quoted with its quotes and backslashes escaped, absent values NULL', () => {
  assert.equal(arrayLiteral([1, -2.5, 0, null, undefined, true]), '{1,-2.5,0,NULL,NULL,true}');
  assert.equal(
    arrayLiteral(['a', '', ' ', 'NULL', 'x,y', '{z}', 'q"uote', 'back\\slash', 'tab\tnew\nline']),
    '{"a",""," ","NULL","x,y","{z}","q\\"uote","back\\\\slash","tab\tnew\nline"}',
  );
  assert.equal(arrayLiteral([]), '{}');
});

test('only flat arrays of text, numbers, booleans and absent values take the literal; the rest is left to the driver', () => {
  assert.ok(isLiteralArray(['a', 1, null, undefined, false]));
  assert.equal(isLiteralArray([new Date()]), false);
  assert.equal(isLiteralArray([['nested']]), false);
  assert.equal(isLiteralArray([{ a: 1 }]), false);
  assert.equal(isLiteralArray([Buffer.from('x')]), false);
});
