export * from './server.js'
export * from './clock.js'
export * from './faults.js'
export * from './prng.js'
