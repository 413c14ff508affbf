// porsager/postgres#1208: a reserved connection whose backend is terminated. Unpatched
// postgres.js 3.4.9 either throws from an immediate (uncaught, the process dies) or leaves
// the next query waiting forever. Prints one JSON line with what each query settled to.
import postgres from 'postgres'

const url = process.argv[2]
const sql = postgres(url, { max: 2, onnotice() {} })
const killer = postgres(url, { max: 1, onnotice() {} })
const reserved = await sql.reserve()
const [{ pid }] = await reserved`select pg_backend_pid() as pid`
await killer`select pg_terminate_backend(${pid})`
const settle = (q) =>
  q.then(
    () => 'ok',
    (e) => e.code ?? e.message,
  )
const first = await settle(reserved`select 1`)
const second = await settle(reserved`select 2`)
// the pool still serves queries on its other connection (a dead reserved connection is never
// released back into it: elsync holds no reserved connections, see src/db/leases)
const [{ n }] = await sql`select 3 as n`
await Promise.all([sql.end({ timeout: 1 }), killer.end({ timeout: 1 })])
console.log(JSON.stringify({ first, second, pool: n }))
