/**
 * A started simulator as the connection that reaches it, in the shape connections.yaml holds
 * (parse it with the config's schema): for tests, benchmarks and probes that build an app in
 * process. Each stream is named after its alias (Elementum) or project (Elean).
 */

interface SimAddress {
  baseUrl: string
  credentials: { clientId?: string | undefined; clientSecret?: string | undefined; apiKey?: string | undefined }
}

export function elementumSimConnection(sim: SimAddress, aliases: readonly string[]) {
  return {
    kind: 'elementum',
    baseUrl: sim.baseUrl,
    auth: { mode: 'oauth2-client-credentials', clientId: sim.credentials.clientId, clientSecret: sim.credentials.clientSecret },
    streams: Object.fromEntries(aliases.map((alias) => [alias, { recordType: 'tasks', alias }])),
  }
}

/** An unlimited key (the 60/min budget has the Elean connector's own tests) and no comment reads per scan, unless `extra` says otherwise. */
export function eleanSimConnection(sim: SimAddress, projects: readonly string[], extra: Record<string, unknown> = {}) {
  return {
    kind: 'elean',
    baseUrl: sim.baseUrl,
    auth: { mode: 'bearer', token: sim.credentials.apiKey },
    rateLimit: { perMinute: 100_000 },
    commentsPerScan: 0,
    ...extra,
    streams: Object.fromEntries(projects.map((project) => [project, { project }])),
  }
}
