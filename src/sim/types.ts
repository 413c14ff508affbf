import type { SimServer } from './common/server.js'

/** What every `start<Vendor>(options)` returns. */
export interface StartedSim {
  kind: 'elementum' | 'elean' | 'avepoint' | 'elasticio'
  /** The base URL a connection's `baseUrl` should use (includes the vendor's path prefix). */
  baseUrl: string
  /** Credentials a client needs, by name (printed by `elsync sim`). */
  credentials: Record<string, string>
  server: SimServer
  close(): Promise<void>
}

/** Options every simulator accepts. */
export interface SimOptions {
  port?: number
  host?: string
  /** PRNG seed for `/_sim/seed`. */
  seed?: number
}
