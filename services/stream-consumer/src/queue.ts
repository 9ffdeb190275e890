/** The SQS queue Marketing Stream writes to: its URL and ARN, receiving, and deleting what is durable. */
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';

export interface StreamQueue {
  url: string;
  arn: string;
  client: SQSClient;
  receive(max: number, waitSeconds: number, visibilitySec: number, signal?: AbortSignal): Promise<Message[]>;
  /** Deletes received messages (by receipt handle), ten to a call; answers how many SQS refused. */
  remove(messages: Message[]): Promise<number>;
  close(): void;
}

export async function openQueue(o: {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  name: string;
  create: boolean;
}): Promise<StreamQueue> {
  const client = new SQSClient({
    region: o.region,
    ...(o.endpoint ? { endpoint: o.endpoint } : {}),
    ...(o.accessKeyId ? { credentials: { accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey } } : {}),
  });
  let url: string;
  try {
    url = (await client.send(new GetQueueUrlCommand({ QueueName: o.name }))).QueueUrl!;
  } catch (err) {
    if (!o.create)
      throw new Error(`SQS queue ${o.name} does not exist (STREAM_CREATE_QUEUE=false): ${(err as Error).message}`, {
        cause: err,
      });
    url = (await client.send(new CreateQueueCommand({ QueueName: o.name }))).QueueUrl!;
  }
  const attrs = await client.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  const arn = attrs.Attributes?.QueueArn;
  if (!arn) throw new Error(`SQS did not say the ARN of queue ${o.name}`);
  return {
    url,
    arn,
    client,
    receive: async (max, waitSeconds, visibilitySec, signal) =>
      (
        await client.send(
          new ReceiveMessageCommand({
            QueueUrl: url,
            MaxNumberOfMessages: Math.min(10, max),
            WaitTimeSeconds: waitSeconds,
            VisibilityTimeout: visibilitySec,
            // How often a message came: a confirmation that keeps failing is given up (sns-gate.ts).
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          }),
          { abortSignal: signal },
        )
      ).Messages ?? [],
    remove: async (messages) => {
      let failed = 0;
      for (let k = 0; k < messages.length; k += 10) {
        const batch = messages.slice(k, k + 10);
        const r = await client.send(
          new DeleteMessageBatchCommand({
            QueueUrl: url,
            Entries: batch.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
          }),
        );
        failed += r.Failed?.length ?? 0;
      }
      return failed;
    },
    close: () => client.destroy(),
  };
}
