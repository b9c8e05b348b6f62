import type { ComponentDeclaration } from '../platform/declaration.ts';
import { hubDeclaration } from '../platform/hub-declaration.ts';

/**
 * Every component the hub has, by its own declaration. The topology, graph and CLI read this
 * list and nothing else: adding a component means adding its declaration here, once.
 */
// biome-ignore lint/suspicious/noExplicitAny: each declaration has its own Config type; the list holds them all.
export const hubDeclarations: readonly ComponentDeclaration<any>[] = [hubDeclaration];
