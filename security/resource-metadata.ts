/**
 * OAuth 2.0 Protected Resource Metadata (RFC 9728) as the MCP authorization spec requires: a 401
 * names this document in `WWW-Authenticate: Bearer resource_metadata="..."`, and the document
 * names the resource (the audience tokens must carry) and the authorization server (the bridge
 * itself issues tokens at /auth/login).
 */

export const resourceMetadataPath = '/.well-known/oauth-protected-resource';

export interface ResourceMetadata {
  resource: string;
  authorization_servers: string[];
  bearer_methods_supported: string[];
  resource_signing_alg_values_supported: string[];
  resource_name: string;
  scopes_supported: string[];
}

/** The metadata document for a protected resource (the bridge's MCP endpoint, the ingress API) at `resourceUrl`. */
export function protectedResourceMetadata(
  resourceUrl: string,
  algorithm: string,
  resourceName = 'Tributary MCP bridge',
): ResourceMetadata {
  const origin = new URL(resourceUrl).origin;
  return {
    resource: resourceUrl,
    authorization_servers: [origin],
    bearer_methods_supported: ['header'],
    resource_signing_alg_values_supported: [algorithm],
    resource_name: resourceName,
    scopes_supported: [],
  };
}

/** URL of the metadata document: at the origin root, as the MCP spec's default discovery does. */
export function resourceMetadataUrl(resourceUrl: string): string {
  return `${new URL(resourceUrl).origin}${resourceMetadataPath}`;
}

/** Quotes a value for an auth-param (RFC 9110 quoted-string). */
function quoted(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&').replace(/[\r\n]/g, ' ')}"`;
}

/** The `WWW-Authenticate` value of a 401: always resource_metadata, plus error details when a token was sent. */
export function bearerChallenge(
  resourceUrl: string,
  error?: { code: 'invalid_token' | 'invalid_request'; description: string },
): string {
  const params = [`resource_metadata=${quoted(resourceMetadataUrl(resourceUrl))}`];
  if (error) params.push(`error=${quoted(error.code)}`, `error_description=${quoted(error.description)}`);
  return `Bearer ${params.join(', ')}`;
}
