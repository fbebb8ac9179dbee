// Aliased: passport's types declare an Express.AuthInfo that would shadow ours in the namespace.
import type { AuthInfo as GuardAuthInfo } from './types.js'

declare global {
  // Express's own types are declared in this global namespace; merging into it is how
  // middleware adds request properties (as passport adds `user`).
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /**
       * The verified bearer token, set by `requireToken()` (and by `BearerJwtStrategy`).
       * Undefined when the route is not guarded or the request was let through anonymously
       * (`credentialsOptional`). Frozen: it may be shared between requests with the same token.
       */
      auth?: GuardAuthInfo
    }
  }
}

export {}
