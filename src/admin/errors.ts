/** An answer other than 2xx that a route gives on purpose: its status, a stable snake_case code and a message for people. */
export class AdminError extends Error {
  constructor(
    readonly status: 400 | 404 | 409,
    readonly code: string,
    message: string,
  ) {
    super(message)
    this.name = 'AdminError'
  }
}

export const notFound = (message: string) => new AdminError(404, 'not_found', message)
