import { HubError } from '../../core/errors.ts';

/**
 * Picks a provider by name, building each one once on first use (so an OpenAI client exists
 * only when a request asks for it). An unknown or unconfigured name is a non-retriable error.
 */
export function createProviderChoice<P>(fallback: string, factories: Record<string, (() => P) | undefined>) {
  const built = new Map<string, P>();
  if (!factories[fallback]) {
    throw new HubError('PROVIDER_NOT_CONFIGURED', `the default provider "${fallback}" is not configured`, {
      where: { field: 'provider' },
      hint: 'for openai set OPENAI_API_KEY (or openai.apiKey), or OPENAI_BASE_URL for a compatible server',
    });
  }
  return {
    get(name: string | null | undefined): P {
      const chosen = name ?? fallback;
      const existing = built.get(chosen);
      if (existing) return existing;
      const factory = factories[chosen];
      if (!factory) {
        const known = Object.entries(factories)
          .filter(([, f]) => f)
          .map(([n]) => n);
        throw new HubError('PROVIDER_UNKNOWN', `provider "${chosen}" is not available here`, {
          where: { field: 'provider' },
          hint: `available: ${known.join(', ')}`,
        });
      }
      const provider = factory();
      built.set(chosen, provider);
      return provider;
    },
    /** Providers built so far (to close them). */
    built: () => [...built.values()],
  };
}
