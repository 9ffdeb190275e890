/** For tests: a queue of one test file's own on the stack's ElasticMQ. */
import { uniqueName } from '@adsync/shared/testing/test-stack';
import { openQueue, type StreamQueue } from './queue.ts';

/** Created under a unique name made safe for SQS (letters, digits, `-` and `_`). */
export async function freshQueue(endpoint: string, prefix: string): Promise<StreamQueue & { name: string }> {
  const name = uniqueName(prefix).replace(/[^A-Za-z0-9_-]/g, '-');
  const queue = await openQueue({
    endpoint,
    region: 'us-east-1',
    accessKeyId: 'local',
    secretAccessKey: 'local',
    name,
    create: true,
  });
  return Object.assign(queue, { name });
}
