/** Dead letters over HTTP (admin keys only: a letter may hold any account's data): list, replay, purge. */
import type { FastifyInstance } from 'fastify';
import type { Knex } from '@adsync/shared/db/postgres';
import type { ClickHouse } from '@adsync/shared/db/clickhouse';
import type { EventBus } from '@adsync/shared/kafka/event-bus';
import { ALL_TOPICS } from '@adsync/shared/events/contracts';
import { badRequest } from '@adsync/shared/http/errors';
import { principalOf, requireAdmin } from '@adsync/shared/http/server';
import { listLetters, purgeLetters, replayLetters } from './dead-letters.ts';

const selectionProperties = {
  topic: { type: 'string', enum: [...ALL_TOPICS] },
  reason: { type: 'string', minLength: 1, maxLength: 500, description: 'letters whose reason contains this text' },
  from: { type: 'string', format: 'date', description: 'dead-lettered on or after this day (UTC)' },
  to: { type: 'string', format: 'date', description: 'dead-lettered on or before this day (UTC)' },
} as const;

const actionBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...selectionProperties,
    letters: {
      type: 'array',
      minItems: 1,
      maxItems: 1000,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['partition', 'offset'],
        properties: {
          partition: { type: 'integer', minimum: 0 },
          offset: { type: 'string', pattern: '^\\d{1,20}$' },
        },
      },
    },
    limit: { type: 'integer', minimum: 1, maximum: 10_000, default: 1000 },
    dryRun: { type: 'boolean', default: false, description: 'say what would be done, do nothing' },
  },
} as const;

const summarySchema = {
  type: 'object',
  properties: {
    selected: { type: 'integer' },
    done: { type: 'integer' },
    dryRun: { type: 'boolean' },
    skipped: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          topic: { type: 'string' },
          dlq_partition: { type: 'integer' },
          dlq_offset: { type: 'string' },
          reason: { type: 'string' },
        },
      },
    },
  },
} as const;

type Selection = {
  topic?: string;
  reason?: string;
  from?: string;
  to?: string;
  letters?: { partition: number; offset: string }[];
  limit?: number;
  dryRun?: boolean;
};

function checkSelection(b: Selection): void {
  if (b.from && b.to && b.from > b.to) throw badRequest(`from ${b.from} is after to ${b.to}`);
  // Acting on every letter there is must be asked for by name, never by an empty body.
  if (!b.topic && !b.reason && !b.from && !b.to && !b.letters?.length)
    throw badRequest('select letters: give at least one of topic, reason, from, to or letters');
}

export function registerDeadLetterApi(app: FastifyInstance, deps: { db: Knex; ch: ClickHouse; bus: EventBus }): void {
  app.get<{ Querystring: Selection & { state?: 'active' | 'replayed' | 'purged' | 'all' } }>(
    '/v1/dead-letters',
    {
      schema: {
        summary: 'Dead letters by topic, reason and time, oldest first, with what was done with each',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...selectionProperties,
            state: { type: 'string', enum: ['active', 'replayed', 'purged', 'all'], default: 'active' },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              letters: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    topic: { type: 'string' },
                    dlq_partition: { type: 'integer' },
                    dlq_offset: { type: 'string' },
                    at: { type: 'string' },
                    consumer_group: { type: 'string' },
                    step: { type: 'string' },
                    reason: { type: 'string' },
                    source_partition: { type: 'integer' },
                    source_offset: { type: 'string' },
                    message_key: { type: 'string' },
                    state: { type: 'string' },
                    replayable: { type: 'boolean' },
                  },
                },
              },
            },
          },
        },
      },
    },
    async (req) => {
      requireAdmin(req);
      const q = req.query;
      if (q.from && q.to && q.from > q.to) throw badRequest(`from ${q.from} is after to ${q.to}`);
      return { letters: await listLetters(deps, q, q.limit ?? 100) };
    },
  );

  const actions = [
    {
      path: '/v1/dead-letters/replay',
      act: replayLetters,
      summary: 'Send a selection of dead letters back to the topic each came from, once each',
    },
    {
      path: '/v1/dead-letters/purge',
      act: purgeLetters,
      summary: 'Take a selection of dead letters off the active list (their bytes expire with the topic)',
    },
  ] as const;
  for (const a of actions)
    app.post<{ Body: Selection }>(
      a.path,
      { schema: { summary: a.summary, body: actionBody, response: { 200: summarySchema } } },
      async (req) => {
        requireAdmin(req);
        checkSelection(req.body);
        return a.act(deps, req.body, {
          limit: req.body.limit ?? 1000,
          dryRun: req.body.dryRun,
          actor: principalOf(req).keyId,
        });
      },
    );
}
