import type { Registry } from 'prom-client'
import type { ConflictQuery, ConflictView } from '../db/conflicts.store.js'
import type { OutboxQuery, OutboxView } from '../db/outbox.store.js'
import type { RunQuery, RunView } from '../db/run.store.js'
import type { StreamStatus } from '../db/streams.store.js'
import type { ReadMode } from '../engine/types.js'
import type { Resolution } from '../engine/resolve.js'
import type { OutboxOp, OutboxState, Side } from '../engine/write.types.js'
import type { Logger } from '../logger.js'

/** What the admin server and its routes receive; routes import it from here, never from server.ts. */
export interface AdminDeps {
  adminToken: string
  registry: Registry
  logger: Logger
  /** Ready when the database answers and every migration is applied. */
  ready: () => Promise<Readiness>
  /** The `/v1` routes' ports; absent: the health endpoints only. */
  api?: AdminApi
  /** Scrubs known secrets from every answer, a last guard behind the stores' own redaction. */
  redact?: (text: string) => string
}

export interface Readiness {
  ready: boolean
  /** Why not, for the probe's body (never driver text). */
  reason?: string
}

/**
 * What the `/v1` routes call (built in src/admin.ports.ts): each is one store query or one
 * engine operation. An unknown name throws `AdminError` 404; a refused operation 409.
 */
export interface AdminApi {
  streams(): Promise<StreamStatus[]>
  /** Queues one run per stream of the connection (or the one stream); their ids. */
  resync(req: { connection: string; stream?: string | undefined; mode: ReadMode; since?: Date | undefined }): Promise<number[]>
  runs(q: RunQuery): Promise<RunView[]>
  run(id: number): Promise<RunView>
  outbox(q: OutboxQuery): Promise<OutboxView[]>
  retryOutbox(id: number): Promise<{ id: number; state: OutboxState }>
  conflicts(q: ConflictQuery): Promise<ConflictView[]>
  resolveConflict(id: number, winner: Side): Promise<Resolution>
  setPaused(mappingId: string, paused: boolean): Promise<{ mapping: string; paused: boolean }>
  plan(mappingId: string): Promise<MappingPlan>
}

/** What the next reconcile of a mapping would do (a dry run, rolled back). */
export interface MappingPlan {
  mapping: string
  paused: boolean
  /** Writes already queued and not yet pushed. */
  queuedWrites: number
  changes: number
  records: number
  writes: { target: Side; connection: string; stream: string; op: OutboxOp; remoteId: string | null; values: Readonly<Record<string, unknown>> }[]
  /** One readable line per write. */
  plan: string[]
  conflicts: { linkId: number; field: string; leftValue: unknown; rightValue: unknown; winner: Side | null }[]
  errors: { connection: string; stream: string; remoteId: string; field?: string; code: string; message: string }[]
}
