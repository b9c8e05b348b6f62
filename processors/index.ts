/** The media processors' public surface: their declarations (for the topology, CLI and bridge). */
export { audioProcessorDeclaration } from './audio/declaration.ts';
export { chartProcessorDeclaration } from './chart/declaration.ts';
export { imageProcessorDeclaration } from './image/declaration.ts';
export { speechProcessorDeclaration } from './speech/declaration.ts';

import { audioProcessorDeclaration } from './audio/declaration.ts';
import { chartProcessorDeclaration } from './chart/declaration.ts';
import { imageProcessorDeclaration } from './image/declaration.ts';
import { speechProcessorDeclaration } from './speech/declaration.ts';

/** Every processor declaration, by the short name `tributary processors run <name>` takes. */
export const processorDeclarations = {
  image: imageProcessorDeclaration,
  audio: audioProcessorDeclaration,
  speech: speechProcessorDeclaration,
  chart: chartProcessorDeclaration,
} as const;

export type ProcessorName = keyof typeof processorDeclarations;
