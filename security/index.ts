/**
 * Public surface of security/: the authentication and authorization every HTTP-facing component
 * shares (MCP bridge, HTTP ingress). Layer 2, beside platform/: it imports core/, schemas/ and
 * platform/, never a component. Import from here only.
 *
 * - Tokens: short-lived JWTs, asymmetric algorithms only, issuer/audience/exp/nbf required.
 * - Sessions and rate limits live in Redis, so every instance of every component agrees at once.
 * - Policy: directory groups -> roles -> name patterns (tool names, `ingress:<type>`...).
 */
export { type AuthAtOrigin, type AuthStack, authChallengeHeaders, createAuthStack } from './auth-stack.ts';
export { type Authenticator, bearerToken, createAuthenticator } from './authenticate.ts';
export { authConfigShape } from './config.ts';
export { issueDevelopmentToken } from './dev-token.ts';
export type { Directory, DirectoryUser } from './directory/directory.ts';
export { checkableCredentials, maxCredentialLength } from './directory/directory.ts';
export { escapeDnValue, escapeFilterValue } from './directory/escape.ts';
export { createLdapDirectory, type LdapDirectoryConfig, ldapDirectoryConfig } from './directory/ldap.ts';
export {
  createLocalUsersDirectory,
  hashPassword,
  readUsersFile,
  type UsersFile,
  upsertLocalUser,
  verifyPassword,
} from './directory/local-users.ts';
export { httpStatusFor, parseJsonBody, readBody, sendHubError, sendJson } from './http.ts';
export type { BridgeAction, BridgeIdentity, EmitAction } from './identity.ts';
export {
  allowedAlgorithms,
  createTokenService,
  type IssuedToken,
  type TokenAlgorithm,
  type TokenService,
  type TokenServiceOptions,
} from './jwt.ts';
export { generateSigningKeyPem, loadOrCreateSigningKey } from './keys.ts';
export { type AuthRoutes, type AuthRoutesDeps, createAuthRoutes } from './login.ts';
export {
  createPolicy,
  defaultPolicy,
  loadPolicy,
  type Policy,
  type PolicyDocument,
  policySchema,
} from './policy.ts';
export { createRateLimiter, type RateLimitDecision, type RateLimiter } from './rate-limit.ts';
export {
  bearerChallenge,
  protectedResourceMetadata,
  type ResourceMetadata,
  resourceMetadataPath,
  resourceMetadataUrl,
} from './resource-metadata.ts';
export {
  createSessionStore,
  type SessionRecord,
  type SessionStore,
  type SessionStoreOptions,
} from './sessions.ts';
