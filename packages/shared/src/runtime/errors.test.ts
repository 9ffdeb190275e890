import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import {
  AppError,
  classifyDriverError,
  DependencyUnavailableError,
  HTTP_ANSWERS,
  httpAnswerOf,
  isDependencyOutage,
  isRetriable,
} from './errors.ts';
import { badRequest, conflict, notFound } from '../http/errors.ts';
import { AmazonApiError } from '../amazon/errors.ts';

test('a retry is decided by code and type, never by the wording of a message', () => {
  for (const wording of ['Connection terminated unexpectedly', 'request timed out', 'socket hang up', 'Timeout error.'])
    assert.equal(isRetriable(new Error(wording)), false, wording);
  assert.equal(isRetriable(Object.assign(new Error('any words'), { code: 'ECONNRESET' })), true);
  assert.equal(isRetriable(Object.assign(new Error('x'), { name: 'KnexTimeoutError' })), true);
  assert.equal(isRetriable(new TypeError('fetch failed', { cause: { code: 'UND_ERR_SOCKET' } })), true);
  const admin = new pg.DatabaseError('terminating connection due to administrator command', 0, 'error');
  admin.code = '57P01';
  assert.equal(isRetriable(admin), true);
  const refused = new pg.DatabaseError('duplicate key value', 0, 'error');
  refused.code = '23505';
  assert.equal(isRetriable(refused), false);
});

test("a driver's bare codeless Error is the server going away; its other errors are left as they are", () => {
  const dropped = classifyDriverError('Postgres', new Error('Connection terminated unexpectedly'));
  assert.ok(dropped instanceof DependencyUnavailableError);
  assert.equal(isRetriable(dropped), true);
  assert.equal(isDependencyOutage(dropped), true);
  assert.match((dropped as Error).message, /^Postgres is unavailable: Connection terminated unexpectedly$/);
  const server = new pg.DatabaseError('relation "nope" does not exist', 0, 'error');
  assert.equal(classifyDriverError('Postgres', server), server);
  const coded = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
  assert.equal(classifyDriverError('ClickHouse', coded), coded);
  const parse = new SyntaxError('Unexpected token');
  assert.equal(classifyDriverError('ClickHouse', parse), parse);
});

test('an API answers every error from one mapping of its code', () => {
  assert.deepEqual(httpAnswerOf(badRequest('x')), { status: 400, error: 'bad_request' });
  assert.deepEqual(httpAnswerOf(notFound('x')), { status: 404, error: 'not_found' });
  assert.deepEqual(httpAnswerOf(conflict('x')), { status: 409, error: 'conflict' });
  const amazonDown = new AmazonApiError('server', 'Amazon answered 503', { status: 503, hint: 'retried' });
  assert.deepEqual(httpAnswerOf(amazonDown), HTTP_ANSWERS.AMAZON_SERVER);
  assert.deepEqual(amazonDown.details, { kind: 'server', upstreamStatus: 503, amazonRequestId: null, retry: true });
  assert.deepEqual(httpAnswerOf(new AppError('ADSYNC_SOMETHING_OF_OURS', 'x', { retriable: false })), {
    status: 500,
    error: 'internal',
  });
});
