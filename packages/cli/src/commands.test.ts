import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bar, table } from './commands.ts';
import { apiConfigFrom } from './api.ts';

test('a progress bar fills with the share done and says the counts', () => {
  assert.equal(bar(0, 4, 8), '[........] 0/4');
  assert.equal(bar(2, 4, 8), '[####....] 2/4');
  assert.equal(bar(9, 4, 8), '[########] 9/4');
  assert.equal(bar(0, 0, 4), '[....] 0/0');
});

test('a table lines up its columns, shows missing values as -, and says when it is empty', () => {
  assert.equal(
    table(
      [
        { id: 'a', n: 1 },
        { id: 'bbb', n: null },
      ],
      ['id', 'n'],
    ),
    'id   n\n---  -\na    1\nbbb  -',
  );
  assert.equal(table([], ['id']), '(none)');
});

test('service URLs and the key come from the environment, with the demo defaults', () => {
  const d = apiConfigFrom({});
  assert.equal(d.urls['entity-sync'], 'http://127.0.0.1:8081');
  assert.equal(d.urls['supplier-sync'], 'http://127.0.0.1:8086');
  const moved = apiConfigFrom({ ADSYNC_ETL_LOADER_URL: 'http://loader:9000/', ADSYNC_API_KEY: 'k' });
  assert.equal(moved.urls['etl-loader'], 'http://loader:9000');
  assert.equal(moved.key, 'k');
});
