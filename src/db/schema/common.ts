import { customType, pgSchema, timestamp } from 'drizzle-orm/pg-core'

/** The schema every table of elsync lives in. */
export const elsync = pgSchema('elsync')

/** A timestamptz column, read as ISO 8601 text. */
export const tz = (name: string) => timestamp(name, { withTimezone: true, mode: 'string' })

/** A 64-bit transaction id (Postgres 13+); read as a decimal string, beyond JavaScript's safe integers. */
export const xid8 = customType<{ data: string; driverData: string }>({ dataType: () => 'xid8' })
