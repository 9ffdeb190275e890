/**
 * Event codecs. Both speak Confluent's wire format — magic byte 0, a 4-byte
 * big-endian schema id, then the Avro binary body — so producers and consumers
 * never care which one is configured:
 *
 *  - RegistryCodec: schemas registered in a Confluent-compatible Schema Registry
 *    (SCHEMA_REGISTRY_URL), with a BACKWARD compatibility rule per subject.
 *  - InRepoSchemaCodec: no registry reachable; the schema id is derived from the
 *    schema kept in the repo, so every process of the same build agrees on it.
 *
 * Either way a value that does not fit its topic's schema is refused on encode,
 * and bytes that do not decode raise a DecodeError that consumers dead-letter.
 */
import avro from 'avsc';
import { SchemaRegistry, SchemaType, COMPATIBILITY } from '@kafkajs/confluent-schema-registry';
import { ALL_TOPICS, schemaFor, subjectFor, type EventMap, type TopicName } from '../events/contracts.ts';

export interface EventCodec {
  readonly kind: 'registry' | 'in-repo';
  /** Registers (or loads) every topic's schema. Call once at start-up. */
  init(): Promise<void>;
  encode<T extends TopicName>(topic: T, value: EventMap[T]): Promise<Buffer>;
  decode<T extends TopicName>(topic: T, bytes: Buffer | null): Promise<EventMap[T]>;
}

export class DecodeError extends Error {
  readonly code = 'ADSYNC_ERR_DECODE';
  constructor(message: string) {
    super(message);
    this.name = 'DecodeError';
  }
}

export class SchemaValidationError extends Error {
  readonly code = 'ADSYNC_ERR_SCHEMA';
  readonly topic: string;
  readonly problems: string[];
  constructor(topic: string, problems: string[]) {
    super(`value does not fit the ${topic} schema: ${problems.join('; ')}`);
    this.name = 'SchemaValidationError';
    this.topic = topic;
    this.problems = problems;
  }
}

const MAGIC = 0;

export function frame(schemaId: number, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt8(MAGIC, 0);
  header.writeUInt32BE(schemaId, 1);
  return Buffer.concat([header, body]);
}

export function unframe(bytes: Buffer | null): { schemaId: number; body: Buffer } {
  if (!bytes || bytes.length < 5) throw new DecodeError(`message too short for the wire format (${bytes?.length ?? 0} bytes)`);
  if (bytes.readUInt8(0) !== MAGIC) throw new DecodeError(`unknown magic byte ${bytes.readUInt8(0)} (expected 0)`);
  return { schemaId: bytes.readUInt32BE(1), body: bytes.subarray(5) };
}

function avroTypeFor(topic: TopicName): avro.Type {
  return avro.Type.forSchema(schemaFor(topic) as avro.Schema);
}

/** Collects every path that does not fit, so the error says exactly what was wrong. */
export function validationProblems(type: avro.Type, value: unknown): string[] {
  const problems: string[] = [];
  type.isValid(value, {
    errorHook: (path: string[], v: unknown) => {
      problems.push(`${path.join('.') || '(root)'}: ${JSON.stringify(v)?.slice(0, 80) ?? 'undefined'}`);
    },
  });
  return problems;
}

/** A stable id for an in-repo schema: 31 bits of the SHA-256 of its Avro Parsing Canonical Form. */
export function inRepoSchemaId(type: avro.Type): number {
  return type.fingerprint('sha256').readUInt32BE(0) & 0x7fffffff;
}

export class InRepoSchemaCodec implements EventCodec {
  readonly kind = 'in-repo' as const;
  private readonly types = new Map<TopicName, { type: avro.Type; id: number }>();

  async init(): Promise<void> {
    for (const topic of ALL_TOPICS) {
      const type = avroTypeFor(topic);
      this.types.set(topic, { type, id: inRepoSchemaId(type) });
    }
  }

  private entry(topic: TopicName) {
    const e = this.types.get(topic);
    if (!e) throw new Error(`codec not initialised for ${topic} (call init() first)`);
    return e;
  }

  async encode<T extends TopicName>(topic: T, value: EventMap[T]): Promise<Buffer> {
    const { type, id } = this.entry(topic);
    const problems = validationProblems(type, value);
    if (problems.length) throw new SchemaValidationError(topic, problems);
    return frame(id, type.toBuffer(value));
  }

  async decode<T extends TopicName>(topic: T, bytes: Buffer | null): Promise<EventMap[T]> {
    const { type, id } = this.entry(topic);
    const { schemaId, body } = unframe(bytes);
    if (schemaId !== id) throw new DecodeError(`schema id ${schemaId} is not the ${topic} schema (${id})`);
    try {
      // avsc yields record-class instances: plain data with a prototype. Cloning them
      // into bare objects cost a third of the loader's throughput, so callers get them as is.
      return type.fromBuffer(body) as EventMap[T];
    } catch (err) {
      throw new DecodeError(`Avro body does not decode as ${topic}: ${(err as Error).message}`);
    }
  }
}

export class RegistryCodec implements EventCodec {
  readonly kind = 'registry' as const;
  private readonly registry: SchemaRegistry;
  private readonly ids = new Map<TopicName, number>();
  private readonly types = new Map<TopicName, avro.Type>();

  constructor(url: string) {
    this.registry = new SchemaRegistry({ host: url });
  }

  async init(): Promise<void> {
    for (const topic of ALL_TOPICS) {
      const schema = schemaFor(topic);
      const { id } = await this.registry.register(
        { type: SchemaType.AVRO, schema: JSON.stringify(schema) },
        { subject: subjectFor(topic), compatibility: COMPATIBILITY.BACKWARD },
      );
      this.ids.set(topic, id);
      this.types.set(topic, avroTypeFor(topic));
    }
  }

  async encode<T extends TopicName>(topic: T, value: EventMap[T]): Promise<Buffer> {
    const id = this.ids.get(topic);
    const type = this.types.get(topic);
    if (id === undefined || !type) throw new Error(`codec not initialised for ${topic} (call init() first)`);
    const problems = validationProblems(type, value);
    if (problems.length) throw new SchemaValidationError(topic, problems);
    return this.registry.encode(id, value);
  }

  async decode<T extends TopicName>(topic: T, bytes: Buffer | null): Promise<EventMap[T]> {
    unframe(bytes); // cheap structural check first: clear reason for garbage
    const readerSchema = this.types.get(topic);
    if (!readerSchema) throw new Error(`codec not initialised for ${topic} (call init() first)`);
    try {
      // Read with our own schema so a message written under another subject cannot pass as this topic's.
      return (await this.registry.decode(bytes as Buffer, {
        [SchemaType.AVRO]: { readerSchema: readerSchema.schema() },
      } as never)) as EventMap[T];
    } catch (err) {
      throw new DecodeError(`registry decode failed for ${topic}: ${(err as Error).message}`);
    }
  }
}

export function createCodec(schemaRegistryUrl: string | undefined): EventCodec {
  return schemaRegistryUrl ? new RegistryCodec(schemaRegistryUrl) : new InRepoSchemaCodec();
}
