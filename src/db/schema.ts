/**
 * The mirror's tables, all in schema `elsync`, one file per area under ./schema/ (drizzle-kit
 * reads them through this file: drizzle.config.ts). Analysts read the views defined in the
 * custom migrations (records_current, record_history, comments, ...), never these tables
 * directly: the tables may change shape, the views only gain columns.
 */
export { elsync } from './schema/common.js'
export * from './schema/mirror.js'
export * from './schema/runs.js'
export * from './schema/writes.js'
export * from './schema/children.js'
