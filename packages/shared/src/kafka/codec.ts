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
import { avroType } from './avro-types.ts';
import { writeRowsParsed } from './rows-parsed-writer.ts';
import { SchemaRegistry, SchemaType, COMPATIBILITY } from '@kafkajs/confluent-schema-registry';
import { ALL_TOPICS, schemaFor, subjectFor, type EventMap, type TopicName } from '../events/contracts.ts';
import { AppError, errorMessage } from '../runtime/errors.ts';

export interface EventCodec {
  readonly kind: 'registry' | 'in-repo';
  /** Registers (or loads) every topic's schema. Call once at start-up. */
  init(): Promise<void>;
  encode<T extends TopicName>(topic: T, value: EventMap[T]): Promise<Buffer>;
  decode<T extends TopicName>(topic: T, bytes: Buffer | null): Promise<EventMap[T]>;
  /**
   * decode, except that arrays of the records named in `keepEncoded` stay as their bytes
   * (EncodedArray) when the message was written with this build's schema; written with another,
   * everything is decoded as by decode. The caller types what it gets (it handles both).
   */
  decodeKeeping(topic: TopicName, bytes: Buffer | null, keepEncoded: readonly string[]): Promise<unknown>;
}

/** The reader types that keep some arrays encoded, made once per topic and set of records. */
class KeepingTypes {
  private readonly types = new Map<string, avro.Type>();
  private readonly schemaOf: (topic: TopicName) => unknown;
  constructor(schemaOf: (topic: TopicName) => unknown = schemaFor) {
    this.schemaOf = schemaOf;
  }
  get(topic: TopicName, keepEncoded: readonly string[]): avro.Type {
    const key = `${topic}:${keepEncoded.join(',')}`;
    let type = this.types.get(key);
    if (!type) this.types.set(key, (type = avroType(this.schemaOf(topic), keepEncoded)));
    return type;
  }
}

export class DecodeError extends AppError {
  constructor(message: string) {
    super('ADSYNC_ERR_DECODE', message, { retriable: false });
    this.name = 'DecodeError';
  }
}

export class SchemaValidationError extends AppError {
  readonly topic: string;
  readonly problems: string[];
  constructor(topic: string, problems: string[]) {
    super('ADSYNC_ERR_SCHEMA', `value does not fit the ${topic} schema: ${problems.join('; ')}`, { retriable: false });
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
  if (!bytes || bytes.length < 5)
    throw new DecodeError(`message too short for the wire format (${bytes?.length ?? 0} bytes)`);
  if (bytes.readUInt8(0) !== MAGIC) throw new DecodeError(`unknown magic byte ${bytes.readUInt8(0)} (expected 0)`);
  return { schemaId: bytes.readUInt32BE(1), body: bytes.subarray(5) };
}

// avsc's toBuffer writes into a shared 1 KiB buffer and, when the value does not fit (every
// rows.parsed message), writes the whole value a second time. One scratch buffer that grows
// to the largest message seen writes it once, header included, and copies it out once.
let scratch = Buffer.allocUnsafe(64 * 1024);
const SCRATCH_KEPT = 32 * 1024 * 1024;

/** The wire format of `value` (header and Avro body), written once. */
export function encodeFramed(type: avro.Type, schemaId: number, value: unknown): Buffer {
  for (;;) {
    const end = type.encode(value, scratch, 5);
    if (end > 0) {
      scratch.writeUInt8(MAGIC, 0);
      scratch.writeUInt32BE(schemaId, 1);
      const out = Buffer.allocUnsafe(end);
      scratch.copy(out, 0, 0, end);
      if (scratch.length > SCRATCH_KEPT) scratch = Buffer.allocUnsafe(64 * 1024);
      return out;
    }
    // encode answers minus the bytes it lacked.
    scratch = Buffer.allocUnsafe(Math.max(scratch.length * 2, scratch.length - end));
  }
}

/**
 * A value checked against its topic's schema and framed. rows.parsed, the one topic whose events
 * are large, goes through its hand-written writer when `handWritten` (written with the build's own
 * schema, the one that writer follows); what that writer does not take, avsc names the problems of.
 */
function encodeChecked(topic: TopicName, type: avro.Type, id: number, value: unknown, handWritten: boolean): Buffer {
  if (handWritten && topic === 'rows.parsed') {
    const bytes = writeRowsParsed(value, id);
    if (bytes) return bytes;
  }
  const problems = validationProblems(type, value);
  if (problems.length) throw new SchemaValidationError(topic, problems);
  return encodeFramed(type, id, value);
}

function avroTypeFor(topic: TopicName): avro.Type {
  return avroType(schemaFor(topic));
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
    return encodeChecked(topic, type, id, value, true);
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

  private readonly keeping = new KeepingTypes();
  async decodeKeeping(topic: TopicName, bytes: Buffer | null, keepEncoded: readonly string[]): Promise<unknown> {
    const { id } = this.entry(topic);
    const { schemaId, body } = unframe(bytes);
    if (schemaId !== id) throw new DecodeError(`schema id ${schemaId} is not the ${topic} schema (${id})`);
    try {
      return this.keeping.get(topic, keepEncoded).fromBuffer(body);
    } catch (err) {
      throw new DecodeError(`Avro body does not decode as ${topic}: ${(err as Error).message}`);
    }
  }
}

export interface RegistryCodecOptions {
  /** Prepended to every subject (tests keep their subjects apart with it). */
  subjectPrefix?: string;
  /** The schema each topic is written with; the build's own by default (tests swap one to prove refusal). */
  schemaOf?: (topic: TopicName) => Record<string, unknown>;
}

/**
 * Schemas live in a Confluent-compatible registry (Apicurio in the stack, Confluent's
 * own in many shops). Start-up registers every topic's schema under `<topic>-value`
 * with BACKWARD compatibility, so a build whose schema would break readers of the
 * existing data refuses to start instead of writing it.
 */
export class RegistryCodec implements EventCodec {
  readonly kind = 'registry' as const;
  private readonly registry: SchemaRegistry;
  private readonly ids = new Map<TopicName, number>();
  private readonly types = new Map<TopicName, avro.Type>();
  /** Topics written with the build's own schema (tests may swap one). */
  private readonly ownSchema = new Set<TopicName>();

  readonly url: string;
  private readonly opts: RegistryCodecOptions;

  constructor(url: string, opts: RegistryCodecOptions = {}) {
    this.url = url;
    this.opts = opts;
    this.registry = new SchemaRegistry({ host: url });
  }

  subject(topic: TopicName): string {
    return `${this.opts.subjectPrefix ?? ''}${subjectFor(topic)}`;
  }

  async init(): Promise<void> {
    // Resolvers are made for the reader types this builds: a second init starts afresh.
    this.readers.clear();
    this.ownSchema.clear();
    for (const topic of ALL_TOPICS) {
      const schema = this.opts.schemaOf?.(topic) ?? schemaFor(topic);
      const subject = this.subject(topic);
      try {
        const { id } = await this.registry.register(
          { type: SchemaType.AVRO, schema: JSON.stringify(schema) },
          { subject, compatibility: COMPATIBILITY.BACKWARD },
        );
        this.ids.set(topic, id);
      } catch (err) {
        throw registryError(err, this.url, subject);
      }
      this.types.set(topic, avroType(schema));
      if (JSON.stringify(schema) === JSON.stringify(schemaFor(topic))) this.ownSchema.add(topic);
    }
  }

  async encode<T extends TopicName>(topic: T, value: EventMap[T]): Promise<Buffer> {
    const id = this.ids.get(topic);
    const type = this.types.get(topic);
    if (id === undefined || !type) throw new Error(`codec not initialised for ${topic} (call init() first)`);
    return encodeChecked(topic, type, id, value, this.ownSchema.has(topic));
  }

  async decode<T extends TopicName>(topic: T, bytes: Buffer | null): Promise<EventMap[T]> {
    return (await this.read(topic, bytes, null)) as EventMap[T];
  }

  private readonly keeping = new KeepingTypes((topic) => this.opts.schemaOf?.(topic) ?? schemaFor(topic));
  decodeKeeping(topic: TopicName, bytes: Buffer | null, keepEncoded: readonly string[]): Promise<unknown> {
    return this.read(topic, bytes, keepEncoded);
  }

  private async read(topic: TopicName, bytes: Buffer | null, keepEncoded: readonly string[] | null): Promise<unknown> {
    const { schemaId, body } = unframe(bytes); // cheap structural check first: clear reason for garbage
    const readerType = this.types.get(topic);
    if (!readerType) throw new Error(`codec not initialised for ${topic} (call init() first)`);
    let reader: unknown;
    try {
      reader = await this.readerFor(topic, readerType, schemaId);
    } catch (err) {
      const status = (err as { status?: number }).status;
      if (status === 404) throw new DecodeError(`schema id ${schemaId} is not known to the schema registry (${topic})`);
      // Any other registry failure is the registry's trouble, not the message's: the consumer waits.
      if (err instanceof Error && err.name === 'ResponseError')
        throw registryError(err, this.url, `schema id ${schemaId}`);
      throw new DecodeError(`schema id ${schemaId} cannot be read as ${topic}: ${(err as Error).message}`);
    }
    try {
      // Written with this build's schema (no resolver): arrays may stay encoded.
      if (keepEncoded && reader === undefined) return this.keeping.get(topic, keepEncoded).fromBuffer(body);
      return readerType.fromBuffer(body, reader as never);
    } catch (err) {
      throw new DecodeError(`Avro body does not decode as ${topic} (schema id ${schemaId}): ${(err as Error).message}`);
    }
  }

  /**
   * How to read a writer schema with this topic's own (so a message written under another
   * subject cannot pass as this topic's): nothing to resolve when they are the same, else
   * avsc's resolver. Made once per schema id: building a reader type and fingerprinting both
   * schemas for every message cost more than decoding a small event.
   */
  private readonly readers = new Map<string, Promise<unknown>>();
  private readerFor(topic: TopicName, readerType: avro.Type, schemaId: number): Promise<unknown> {
    const key = `${topic}:${schemaId}`;
    let reader = this.readers.get(key);
    if (!reader) {
      reader = this.registry.getSchema(schemaId).then((writer) => {
        const writerType = writer as unknown as avro.Type;
        return readerType.equals(writerType) ? undefined : readerType.createResolver(writerType);
      });
      // A failed lookup (registry down, unknown id) is asked again next time, never remembered.
      reader.catch(() => this.readers.delete(key));
      this.readers.set(key, reader);
    }
    return reader;
  }
}

/**
 * The registry's answers, in our error model: an incompatible schema is a
 * permanent refusal that names the subject and what differs. A conflict setting a
 * subject's rule means another service registered the same subject at the same
 * moment (services start together; Apicurio answers 409 where Confluent would
 * update): trying again finds the rule in place. Anything else (unreachable, 5xx)
 * means the registry is down and is worth waiting for.
 */
export function registryError(err: unknown, url: string, what: string): AppError {
  const message = errorMessage(err).replace(/^Confluent_Schema_Registry - /, '');
  const status = (err as { status?: number }).status;
  if (status === 409 && /already exists/i.test(message)) {
    return new AppError(
      'ADSYNC_REGISTRY_RACE',
      `schema registry ${url}: ${what} was being set up by another process at the same time (${message})`,
      {
        retriable: true,
        cause: err,
      },
    );
  }
  if (/incompatible|RuleViolation/i.test(message)) {
    return new AppError(
      'ADSYNC_SCHEMA_INCOMPATIBLE',
      `the schema for ${what} in this build is not BACKWARD compatible with the one registered at ${url}: ${message}. ` +
        'Readers of existing events could not read new ones; give new fields a default, or publish under a new topic.',
      { retriable: false, cause: err },
    );
  }
  return new AppError('ADSYNC_DEPENDENCY_UNAVAILABLE', `schema registry ${url} failed for ${what}: ${message}`, {
    retriable: true,
    cause: err,
  });
}

export function createCodec(schemaRegistryUrl: string | undefined, opts: RegistryCodecOptions = {}): EventCodec {
  return schemaRegistryUrl ? new RegistryCodec(schemaRegistryUrl, opts) : new InRepoSchemaCodec();
}
