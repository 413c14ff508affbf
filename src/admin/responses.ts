import { z } from 'zod'
import type { ConflictView } from '../db/conflicts.store.js'
import type { OutboxView } from '../db/outbox.store.js'
import type { RunView } from '../db/run.store.js'
import type { StreamStatus } from '../db/streams.store.js'
import type { Resolution } from '../engine/resolve.js'
import type { MappingPlan } from './types.js'

/**
 * What the `/v1` routes answer, as zod: `/openapi.json` publishes these, and the serializer
 * encodes every answer through them. Objects are strict, so a field a view gains without its
 * schema is an error in the tests (and a type error below), never a field silently dropped.
 */

/** Postgres `to_json` of a timestamptz: ISO 8601 with an offset. */
const time = z.string().meta({ format: 'date-time' })
const side = z.enum(['left', 'right'])
const outboxOp = z.enum(['create', 'update', 'delete', 'attachment', 'comment', 'relate', 'unrelate', 'watch'])
const outboxState = z.enum(['pending', 'sent', 'failed', 'dead', 'ignored', 'superseded'])
const fieldValues = z.record(z.string(), z.unknown())

export const streamStatus = z.strictObject({
  connection: z.string(),
  stream: z.string(),
  cursor: z.unknown().describe("the stored cursor (the connector's own shape), null before the first complete read"),
  lastRun: z
    .strictObject({ id: z.number(), state: z.string(), mode: z.string(), startedAt: z.string(), finishedAt: time.nullable(), error: z.string().nullable() })
    .nullable(),
  lastSuccessAt: time.nullable(),
  lagSeconds: z.number().nullable(),
  lastError: z.string().nullable(),
  consecutiveFailures: z.number().int(),
  queuedResyncs: z.number().int(),
  running: z.boolean(),
})

export const runView = z.strictObject({
  id: z.number().int(),
  connection: z.string(),
  stream: z.string(),
  mode: z.string(),
  state: z.string().describe('queued | running | succeeded | failed | interrupted | abandoned'),
  queuedAt: time.nullable(),
  startedAt: time.nullable(),
  finishedAt: time.nullable(),
  durationMs: z.number().nullable(),
  pages: z.number().int(),
  records: z.strictObject({ seen: z.number().int(), changed: z.number().int(), deleted: z.number().int() }),
  requests: z.number().int(),
  quarantined: z.number().int(),
  childrenStale: z.number().int(),
  since: time.nullable(),
  error: z.string().nullable(),
})

export const outboxView = z.strictObject({
  id: z.number().int(),
  mappingId: z.string(),
  linkId: z.number().int(),
  target: side,
  connection: z.string(),
  stream: z.string(),
  op: outboxOp,
  remoteId: z.string().nullable(),
  values: fieldValues,
  state: outboxState,
  attempts: z.number().int(),
  nextAttemptAt: time,
  lastErrorCode: z.string().nullable(),
  lastError: z.string().nullable(),
  lastStatus: z.number().int().nullable(),
  createdAt: time,
  sentAt: time.nullable(),
})

export const conflictView = z.strictObject({
  id: z.number().int(),
  mappingId: z.string(),
  linkId: z.number().int(),
  leftRemoteId: z.string().nullable(),
  rightRemoteId: z.string().nullable(),
  field: z.string(),
  leftValue: z.unknown(),
  rightValue: z.unknown(),
  base: z.unknown(),
  policy: z.string(),
  winner: side.nullable(),
  state: z.enum(['open', 'resolved']),
  createdAt: time,
  resolvedAt: time.nullable(),
  resolvedBy: z.string().nullable(),
})

export const resolution = z.strictObject({
  conflictId: z.number().int(),
  mappingId: z.string(),
  linkId: z.number().int(),
  field: z.string(),
  winner: side,
  value: z.unknown().describe('the value written to the losing side (its form), or its value already when both agree'),
  outboxId: z.number().int().nullable().describe('the write queued; null when the losing side already holds the value'),
})

export const retried = z.strictObject({ id: z.number().int(), state: outboxState })

export const pauseState = z.strictObject({ mapping: z.string(), paused: z.boolean() })

export const mappingPlan = z.strictObject({
  mapping: z.string(),
  paused: z.boolean(),
  queuedWrites: z.number().int(),
  changes: z.number().int(),
  records: z.number().int(),
  writes: z.array(
    z.strictObject({ target: side, connection: z.string(), stream: z.string(), op: outboxOp, remoteId: z.string().nullable(), values: fieldValues.readonly() }),
  ),
  plan: z.array(z.string()),
  conflicts: z.array(z.strictObject({ linkId: z.number().int(), field: z.string(), leftValue: z.unknown(), rightValue: z.unknown(), winner: side.nullable() })),
  errors: z.array(
    z.strictObject({
      connection: z.string(),
      stream: z.string(),
      remoteId: z.string(),
      field: z.string().optional(),
      code: z.string(),
      message: z.string(),
    }),
  ),
})

// A view and its schema say the same: `Agree` fails to compile when one gains or loses a field.
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
type Expect<T extends true> = T
type Agree<S extends z.ZodType, V> = Same<z.output<S>, V>
export type SchemasAgree = [
  Expect<Agree<typeof streamStatus, StreamStatus>>,
  Expect<Agree<typeof runView, RunView>>,
  Expect<Agree<typeof outboxView, OutboxView>>,
  Expect<Agree<typeof conflictView, ConflictView>>,
  Expect<Agree<typeof resolution, Resolution>>,
  Expect<Agree<typeof mappingPlan, MappingPlan>>,
]
