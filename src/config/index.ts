/** Public surface of the config module. */
export { loadConfig, type LoadConfigOptions } from './load.js'
export { readEnv, processEnv, configDirFromEnv, envSecrets, type Env, type EnvSettings } from './env.js'
export { ConfigError, formatIssue, type ConfigIssue } from './errors.js'
export { collectSecrets, redact, REDACTED } from './secrets.js'
export * from './schema.js'
